// `pnpm cli webhooks ...`: the operator lists deliveries and re-sends one.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import CloudConvert from 'cloudconvert';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { defaultSecret } from '@convertd/webhooks';

import { api, startStack, type Stack } from '../../../test/harness';
import { Receiver } from '../../../test/webhook-receiver';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const exec = promisify(execFile);
const EMAIL = 'hooks@example.test';

let stack: Stack;
let receiver: Receiver;
let userId: number;
let secret: string;
let jobId: string;

async function cli(...args: string[]) {
  return exec('pnpm', ['--silent', 'cli', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...stack.env },
  });
}

async function cliFails(...args: string[]) {
  const err = (await cli(...args).then(
    () => null,
    (e: unknown) => e,
  )) as { code: number; stderr: string } | null;
  expect(err).not.toBeNull();
  return err!;
}

// No worker: nothing delivers on its own, so the deliveries stay as the commands leave them.
beforeAll(async () => {
  stack = await startStack({ worker: false });
  receiver = await Receiver.create();
  await receiver.listen();
  const user = await stack.createUser({ email: EMAIL });
  userId = user.id;
  const hook = await api(stack, user.key, 'POST', '/v2/webhooks', {
    url: receiver.url('/cli'),
    events: ['job.created'],
  });
  secret = hook.json.data.signing_secret;
  const job = await api(stack, user.key, 'POST', '/v2/jobs', {
    tasks: { up: { operation: 'import/upload' } },
  });
  jobId = job.json.data.id;
});

afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

describe('pnpm cli webhooks', () => {
  it('lists deliveries, filtered by user, job and status', async () => {
    const [row] = await stack.deps.db.webhookDelivery.findMany({ where: { jobId } });

    const byEmail = (await cli('webhooks', 'deliveries', '--email', EMAIL)).stdout.trim();
    const lines = byEmail.split('\n');
    expect(lines[0]).toMatch(/^id\tcreated\tevent\tjob/);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]!.split('\t')).toEqual([
      String(row!.id),
      row!.createdAt.toISOString(),
      'job.created',
      jobId,
      'account',
      receiver.url('/cli'),
      'pending',
      '0',
      '-',
      '-',
      '-',
    ]);

    const byJob = (await cli('webhooks', 'deliveries', '--job', jobId)).stdout.trim();
    expect(byJob.split('\n')).toHaveLength(2);
    const delivered = await cli('webhooks', 'deliveries', '--status', 'delivered');
    expect(delivered.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('re-sends a delivery as a new one, sent at once and signed', async () => {
    const [row] = await stack.deps.db.webhookDelivery.findMany({ where: { jobId } });

    const out = (await cli('webhooks', 'resend', String(row!.id))).stdout.trim();
    expect(out).toMatch(
      new RegExp(`^delivery ${row!.id} re-sent as delivery (\\d+): delivered \\(HTTP 200\\)$`),
    );
    const [got] = receiver.at('/cli', jobId);
    expect(got!.json).toMatchObject({ event: 'job.created', job: { id: jobId } });
    const signature = got!.headers['cloudconvert-signature'] as string;
    expect(new CloudConvert('x').webhooks.verify(got!.body.toString(), signature, secret)).toBe(
      true,
    );

    const rows = await stack.deps.db.webhookDelivery.findMany({
      where: { jobId },
      orderBy: { id: 'asc' },
    });
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['pending', 0],
      ['delivered', 1],
    ]);
  });

  it('prints the default secret of job webhook_url deliveries', async () => {
    const out = (await cli('webhooks', 'secret', '--email', EMAIL)).stdout.trim();

    expect(out).toBe(await defaultSecret(stack.deps.db, userId));
  });

  it('refuses unknown deliveries and bad filters with exit code 2', async () => {
    const missing = await cliFails('webhooks', 'resend', '999999');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no delivery with id 999999/);

    const status = await cliFails('webhooks', 'deliveries', '--status', 'lost');
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/--status must be one of pending, delivered, failed/);

    const job = await cliFails('webhooks', 'deliveries', '--job', 'nope');
    expect(job.code).toBe(2);
  });
});
