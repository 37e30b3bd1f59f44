// Measurements in Chromium (bench/): the e2e configuration, another directory of specs.
import { defineConfig } from '@playwright/test';
import e2e from './playwright.config';

export default defineConfig({ ...e2e, testDir: 'bench', timeout: 180_000 });
