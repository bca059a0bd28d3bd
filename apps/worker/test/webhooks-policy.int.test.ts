// With private URLs refused (the production default): a job's webhook_url on a loopback literal
// is refused at creation, and an account webhook whose host name resolves to a private address
// is a failed delivery with the reason recorded, not a request and not a crash. Also: a receiver
// that never answers ends the attempt at its deadline.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger } from '@convertd/config';
import { WebhookDispatcher } from '@convertd/webhooks';

import { api, startStack, type Stack } from '../../../test/harness';
import { Receiver } from '../../../test/webhook-receiver';
import { createJob } from './support';

let stack: Stack;
let receiver: Receiver;

// No worker: the test runs its own dispatcher, with a resolver that maps a name to loopback.
beforeAll(async () => {
  stack = await startStack({ worker: false, env: { CONVERTD_ALLOW_PRIVATE_URLS: 'false' } });
  receiver = await Receiver.create();
  await receiver.listen();
});

afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

describe('outbound policy on webhooks', () => {
  it('refuses a job webhook_url on a loopback or private literal with 422', async () => {
    const { key } = await stack.createUser();
    for (const url of [receiver.url('/job'), 'http://localhost/hook', 'http://192.168.1.5/h']) {
      const res = await api(stack, key, 'POST', '/v2/jobs', {
        tasks: { up: { operation: 'import/upload' } },
        webhook_url: url,
      });

      expect(res.status).toBe(422);
      expect(res.json.errors.webhook_url[0]).toMatch(/loopback, private or link-local/);
    }
  });

  it('records a name that resolves to a private address as a failed delivery', async () => {
    const { key } = await stack.createUser();
    const hook = await api(stack, key, 'POST', '/v2/webhooks', {
      url: `http://hooks.convertd.test:${receiver.port}/named`,
      events: ['job.created'],
    });
    expect(hook.status).toBe(201);
    const job = await createJob(stack, key, { up: { operation: 'import/upload' } });

    const dispatcher = new WebhookDispatcher(
      stack.deps.db,
      stack.config,
      createLogger('test', 'silent'),
      { lookup: async () => [{ address: '127.0.0.1', family: 4 }] },
    );
    expect(await dispatcher.deliverDue()).toBe(1);

    const row = await stack.deps.db.webhookDelivery.findFirstOrThrow({
      where: { jobId: job.id },
      include: { log: true },
    });
    expect(row).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null });
    expect(row.lastError).toMatch(/loopback, private or link-local address/);
    expect(row.log).toMatchObject([{ attempt: 1, statusCode: null }]);
    expect(receiver.received).toEqual([]);
    // The webhook stays enabled (the name may point elsewhere later) but is marked failing.
    const listed = await api(stack, key, 'GET', '/v2/users/me/webhooks');
    expect(listed.json.data).toMatchObject([{ disabled: false, failing: true }]);
  });
});

describe('deadline', () => {
  it('ends an attempt whose receiver never answers, and records why', async () => {
    const hanging = http.createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const { port } = hanging.address() as AddressInfo;
    try {
      // Written directly: the API refuses loopback URLs in this stack.
      const { id: userId, key } = await stack.createUser();
      await stack.deps.db.webhook.create({
        data: {
          id: crypto.randomUUID(),
          userId,
          url: `http://127.0.0.1:${port}/hang`,
          events: ['job.created'],
          signingSecret: 'not-used-here',
        },
      });
      const job = await createJob(stack, key, { up: { operation: 'import/upload' } });

      const dispatcher = new WebhookDispatcher(
        stack.deps.db,
        { ...stack.config, allowPrivateUrls: true, webhookTimeoutMs: 300, webhookRetries: 0 },
        createLogger('test', 'silent'),
      );
      expect(await dispatcher.deliverDue()).toBe(1);

      const row = await stack.deps.db.webhookDelivery.findFirstOrThrow({
        where: { jobId: job.id },
      });
      expect(row).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null });
      expect(row.lastError).toBe('The URL did not answer within 0.3 seconds.');
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });
});
