// End-to-end tests: Debian's Chromium (no browser download here) against a real `todo serve`
// started by e2e/server.ts. TODO_BIN picks the binary (default: the dev build).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  timeout: 30_000,
  expect: { timeout: 5_000 },
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  globalSetup: './e2e/global-setup.ts',
  use: {
    baseURL: process.env.TODO_E2E_URL,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu'],
    },
    trace: 'retain-on-failure',
  },
});
