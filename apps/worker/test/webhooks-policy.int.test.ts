// With private URLs refused (the production default), a job's webhook_url on a loopback address
// is a failed delivery with the reason recorded; nothing is sent and nothing crashes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, startStack, type Stack } from '../../../test/harness';
import { createJob, waitJob } from './support';
import { Receiver } from '../../../test/webhook-receiver';

let stack: Stack;
let receiver: Receiver;

beforeAll(async () => {
  stack = await startStack({
    workerOptions: { engines: [] },
    env: { CONVERTD_ALLOW_PRIVATE_URLS: 'false', WEBHOOK_POLL_MS: '200' },
  });
  receiver = await Receiver.create();
  await receiver.listen();
});

afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

describe('outbound policy on webhook deliveries', () => {
  it('records a refused address as a failed delivery and sends nothing', async () => {
    const { key } = await stack.createUser();
    const job = await createJob(
      stack,
      key,
      { src: { operation: 'import/raw', file: 'x', filename: 'x.txt' } },
      { webhook_url: receiver.url('/private') },
    );
    expect((await waitJob(stack, key, job.id)).status).toBe('finished');

    const failed = await eventually(async () => {
      const row = await stack.deps.db.webhookDelivery.findFirst({
        where: { jobId: job.id },
        include: { log: true },
      });
      return row?.status === 'failed' ? row : null;
    });
    expect(failed).toMatchObject({ event: 'job.finished', attempts: 1, lastStatusCode: null });
    expect(failed.lastError).toMatch(/loopback, private or link-local address/);
    expect(failed.log).toMatchObject([{ attempt: 1, statusCode: null }]);
    expect(receiver.received).toEqual([]);
  });
});
