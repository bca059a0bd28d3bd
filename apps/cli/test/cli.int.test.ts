// The admin CLI as users run it: `pnpm cli ...` from the repo root.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, startStack, type Stack } from '../../../test/harness';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const exec = promisify(execFile);

let stack: Stack;

async function cli(...args: string[]) {
  return exec('pnpm', ['--silent', 'cli', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...stack.env },
  });
}

beforeAll(async () => {
  stack = await startStack({ worker: false });
});

afterAll(async () => {
  await stack?.close();
});

describe('pnpm cli', () => {
  it('creates a user and a key that works, lists it, and revokes it', async () => {
    const created = await cli(
      'users',
      'create',
      '--email',
      'ops@example.test',
      '--username',
      'ops',
      '--credits',
      '25',
    );
    expect(created.stdout).toMatch(/user \d+ created: ops <ops@example\.test>, 25 credits/);

    const keyOut = await cli(
      'keys',
      'create',
      '--email',
      'ops@example.test',
      '--scopes',
      'user.read,task.read',
    );
    const lines = keyOut.stdout.trim().split('\n');
    const key = lines[lines.length - 1]!;
    expect(key).toMatch(/^cvd_[A-Za-z0-9_-]{43}$/);

    const me = await api(stack, key, 'GET', '/v2/users/me');
    expect(me.status).toBe(200);
    expect(me.json.data).toMatchObject({ username: 'ops', email: 'ops@example.test', credits: 25 });
    const denied = await api(stack, key, 'POST', '/v2/jobs', { tasks: {} });
    expect(denied.status).toBe(403);

    const list = await cli('keys', 'list');
    const row = list.stdout.split('\n').find((l) => l.includes('ops@example.test'))!;
    expect(row).toContain('user.read,task.read');
    expect(row).toContain('active');
    expect(list.stdout).not.toContain(key);

    const id = row.split('\t')[0]!;
    expect((await cli('keys', 'revoke', id)).stdout).toContain(`key ${id} revoked`);
    expect((await api(stack, key, 'GET', '/v2/users/me')).status).toBe(401);
  });

  it('creates sandbox keys with all scopes', async () => {
    await cli('users', 'create', '--email', 'ci@example.test');
    const out = await cli(
      'keys',
      'create',
      '--email',
      'ci@example.test',
      '--scopes',
      'all',
      '--sandbox',
    );
    const key = out.stdout.trim().split('\n').pop()!;
    const row = await stack.deps.db.apiKey.findFirstOrThrow({
      where: { user: { email: 'ci@example.test' } },
    });
    expect(row.sandbox).toBe(true);
    expect(row.scopes).toHaveLength(6);
    expect((await api(stack, key, 'GET', '/v2/users/me')).status).toBe(200);
  });

  it('refuses bad input with a message and a non-zero exit', async () => {
    await expect(
      cli('keys', 'create', '--email', 'nobody@example.test', '--scopes', 'all'),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('no user with email nobody@example.test'),
    });
    await cli('users', 'create', '--email', 'x@example.test');
    await expect(
      cli('keys', 'create', '--email', 'x@example.test', '--scopes', 'task.read,root'),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown scope root'),
    });
    await expect(cli('users', 'create', '--email', 'x@example.test')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('already exists'),
    });
    await expect(cli('keys', 'revoke', '999999')).rejects.toMatchObject({ code: 2 });
    for (const credits of ['99999999999999999999', '-5', '1.5']) {
      await expect(
        cli('users', 'create', '--email', 'y@example.test', `--credits=${credits}`),
      ).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining('--credits must be an integer from 0 to 2147483647'),
      });
    }
    await expect(
      cli('users', 'create', '--email', 'y@example.test', '--credits', '-5'),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^convertd: Option '--credits' argument is ambiguous/),
    });
    await expect(cli('users', 'list', '--bogus')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^convertd: Unknown option '--bogus'/),
    });
    for (const id of ['abc', '99999999999']) {
      await expect(cli('keys', 'revoke', id)).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining(`ID must be a key id (a number, as keys list shows it)`),
      });
    }
  });
});
