// The gateway and worker as processes: start-up errors, the bootstrap key, health and readiness.
import { spawn } from 'node:child_process';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, eventually, freePort, startStack, type Stack } from '../../../test/harness';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function run(entry: string, env: Record<string, string>, timeoutMs = 20_000) {
  const child = spawn('pnpm', ['exec', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

  return { child, exited, output: () => ({ stdout, stderr }) };
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ worker: false });
});

afterAll(async () => {
  await stack?.close();
});

describe('gateway process', () => {
  it('names DATABASE_URL in one line when PostgreSQL cannot be reached', async () => {
    const proc = run('apps/gateway/src/main.ts', {
      ...stack.env,
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/convertd',
    });
    expect(await proc.exited).toBe(1);
    const { stderr } = proc.output();
    expect(stderr).toMatch(
      /^convertd gateway: cannot reach PostgreSQL at DATABASE_URL=postgresql:\/\/postgres@127\.0\.0\.1:1\/convertd .*start it/m,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('names REDIS_URL in one line when Redis cannot be reached', async () => {
    const proc = run('apps/worker/src/main.ts', { ...stack.env, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await proc.exited).toBe(1);
    const { stderr } = proc.output();
    expect(stderr).toMatch(
      /^convertd worker: cannot reach Redis at REDIS_URL=redis:\/\/127\.0\.0\.1:1 /m,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('creates the bootstrap key with every scope, and serves health and readiness', async () => {
    const key = 'bootstrap-key-for-tests-0123456789';
    const port = String(await freePort());
    const proc = run(
      'apps/gateway/src/main.ts',
      {
        ...stack.env,
        PORT: port,
        SYNC_PORT: String(await freePort()),
        CONVERTD_BOOTSTRAP_API_KEY: key,
      },
      60_000,
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      // A cold start through tsx can be slow on a busy machine.
      await eventually(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, 55_000);

      const me = await fetch(`${base}/v2/users/me`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { data: { email: string } }).data.email).toBe('admin@localhost');
      const row = await stack.deps.db.apiKey.findFirstOrThrow({ where: { name: 'bootstrap' } });
      expect(row.scopes.sort()).toEqual([
        'task.read',
        'task.write',
        'user.read',
        'user.write',
        'webhook.read',
        'webhook.write',
      ]);
      expect(row.hash).not.toContain(key);

      // No worker of this stack runs yet.
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { checks: unknown }).checks).toEqual({
        database: true,
        redis: true,
        workers: false,
      });

      const worker = await stack.startWorker();
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      await worker.close();
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });

  it('answers /healthz and unknown routes with JSON', async () => {
    const health = await fetch(`${stack.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const user = await stack.createUser();
    const missing = await api(stack, user.key, 'GET', '/v2/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(missing.json.code).toBe('NOT_FOUND');
  });
});
