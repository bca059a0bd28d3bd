// The operator's side of accounts: default balances, the sandbox whitelist and usage, as users
// run them (`pnpm cli ...`), checked against what the API then says.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, startStack, type Stack } from '../../../test/harness';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const exec = promisify(execFile);
const MD5 = '53d6fe6b688c31c565907c81de625046';

let stack: Stack;

async function cli(env: Record<string, string>, ...args: string[]) {
  return exec('pnpm', ['--silent', 'cli', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...stack.env, ...env },
  });
}

beforeAll(async () => {
  stack = await startStack({ worker: false });
});

afterAll(async () => {
  await stack?.close();
});

// Each `pnpm cli` run starts node and migrates: seconds apiece on a loaded machine.
describe('pnpm cli for accounts', { timeout: 180_000 }, () => {
  it('gives new users DEFAULT_CREDITS unless --credits says otherwise', async () => {
    expect((await cli({}, 'users', 'create', '--email', 'a@example.test')).stdout).toContain(
      '1000000 credits',
    );
    const low = await cli(
      { DEFAULT_CREDITS: '77' },
      'users',
      'create',
      '--email',
      'b@example.test',
    );
    expect(low.stdout).toContain(', 77 credits');
  });

  it('allows, lists and removes sandbox files, as the API shows them', async () => {
    const user = await stack.createUser({ sandbox: true, email: 'sandbox@example.test' });
    const allowed = await cli(
      {},
      'sandbox',
      'allow',
      '--email',
      'sandbox@example.test',
      '--md5',
      MD5.toUpperCase(),
      '--name',
      'input.pdf',
    );
    expect(allowed.stdout).toContain(`sandbox file ${MD5} allowed for sandbox@example.test`);
    const listed = await cli({}, 'sandbox', 'list', '--email', 'sandbox@example.test');
    expect(listed.stdout.trim().split('\t').slice(0, 3)).toEqual([
      'sandbox@example.test',
      MD5,
      'input.pdf',
    ]);
    const viaApi = await api(stack, user.key, 'GET', '/v2/users/me/sandbox/files');
    expect(viaApi.json.data).toEqual([
      { md5: MD5, filename: 'input.pdf', created_at: expect.any(String) },
    ]);
    expect((await cli({}, 'sandbox', 'list')).stdout).toContain(MD5);

    await cli({}, 'sandbox', 'remove', '--email', 'sandbox@example.test', '--md5', MD5);
    expect((await api(stack, user.key, 'GET', '/v2/users/me/sandbox/files')).json.data).toEqual([]);
    await expect(
      cli({}, 'sandbox', 'remove', '--email', 'sandbox@example.test', '--md5', MD5),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('not on the sandbox') });
    await expect(
      cli({}, 'sandbox', 'allow', '--email', 'sandbox@example.test', '--md5', 'xyz'),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--md5') });
  });

  it('prints usage per day, user and operation', async () => {
    const user = await stack.createUser({ email: 'usage@example.test' });
    const ended = new Date();
    const started = new Date(ended.getTime() - 2500);
    for (const [operation, credits] of [
      ['convert', 1],
      ['convert', 2],
      ['import/upload', 0],
    ] as const) {
      await stack.deps.db.task.create({
        data: {
          id: randomUUID(),
          userId: user.id,
          operation,
          payload: {},
          status: 'finished',
          credits,
          startedAt: started,
          endedAt: ended,
        },
      });
    }
    const day = ended.toISOString().slice(0, 10);

    const out = await cli({}, 'usage', '--email', 'usage@example.test');
    expect(out.stdout.trim().split('\n')).toEqual([
      'date\temail\toperation\ttasks\tcredits\tengine_seconds',
      `${day}\tusage@example.test\tconvert\t2\t3\t5`,
      `${day}\tusage@example.test\timport/upload\t1\t0\t2.5`,
    ]);
    expect((await cli({}, 'usage', '--from', day, '--to', day)).stdout).toContain(
      `${day}\tusage@example.test\tconvert\t2\t3\t5`,
    );
    expect(
      (await cli({}, 'usage', '--from', '2020-01-01', '--to', '2020-01-02')).stdout.trim(),
    ).toBe('date\temail\toperation\ttasks\tcredits\tengine_seconds');
    await expect(cli({}, 'usage', '--from', '2026-13-01')).rejects.toMatchObject({ code: 2 });
  });
});
