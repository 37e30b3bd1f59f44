// Starts `todo serve` on a free port with a temporary data dir and the built app, for all tests;
// stops it and removes the directory afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const freePort = () =>
  new Promise<number>((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });

export default async function globalSetup() {
  const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const bin = process.env.TODO_BIN ?? resolve(web, '../build/dev/src/app/todo');
  if (!existsSync(bin)) throw new Error(`no todo binary at ${bin}: build it or set TODO_BIN`);
  const dist = resolve(web, 'dist');
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`no built app in ${dist}: run npm run build`);
  const dataDir = mkdtempSync(join(tmpdir(), 'todo-e2e-'));
  const port = await freePort();
  const server = spawn(
    bin,
    ['serve', '--address', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--web-dir', dist,
      '--register-limit-address', '100000', '--login-limit-address', '100000', '--log-level', 'warn',
      // The webhook test's receiver listens on 127.0.0.1, which the SSRF guard refuses otherwise.
      '--allow-private-webhooks'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`todo serve exited with ${server.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error('todo serve did not become healthy in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  process.env.TODO_E2E_URL = url;
  return async () => {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  };
}
