// Webhook deliveries end to end: job events from the outbox to a receiver on 127.0.0.1, signed
// so that the official node SDK's `webhooks.verify` accepts them; retries, 410, a receiver that
// comes up late, and a delivery that waits for a dispatcher to start.
import { createHmac } from 'node:crypto';

import CloudConvert from 'cloudconvert';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { defaultSecret } from '@convertd/webhooks';

import { api, eventually, startStack, type Stack } from '../../../test/harness';
import { createJob, waitJob, type Json } from './support';
import { Receiver, type Received } from '../../../test/webhook-receiver';

let stack: Stack;
let receiver: Receiver;
const sdk = new CloudConvert('unused');

beforeAll(async () => {
  stack = await startStack({
    workerOptions: { engines: [] },
    env: { WEBHOOK_POLL_MS: '200', WEBHOOK_RETRY_DELAY_MS: '1000', WEBHOOK_TIMEOUT_MS: '5000' },
  });
  receiver = await Receiver.create();
  await receiver.listen();
});

afterAll(async () => {
  await receiver?.close();
  await stack?.close();
});

async function webhook(key: string, path: string, events: string[]): Promise<Json> {
  const res = await api(stack, key, 'POST', '/v2/webhooks', { url: receiver.url(path), events });
  expect(res.status).toBe(201);
  return res.json.data as Json;
}

const finishing = {
  src: { operation: 'import/raw', file: 'hello webhooks', filename: 'hello.txt' },
  out: { operation: 'export/url', input: 'src' },
};
// Nothing listens on port 1: the import fails, and so does the job.
const failing = {
  src: { operation: 'import/url', url: 'http://127.0.0.1:1/missing.txt' },
  out: { operation: 'export/url', input: 'src' },
};

function expectSigned(r: Received, secret: string): void {
  const signature = r.headers['cloudconvert-signature'] as string;
  expect(signature).toBe(createHmac('sha256', secret).update(r.body).digest('hex'));
  expect(sdk.webhooks.verify(r.body.toString('utf8'), signature, secret)).toBe(true);
  expect(sdk.webhooks.verify(r.body.toString('utf8'), signature, `${secret}x`)).toBe(false);
}

/** A serialized job with our URLs reduced to their paths (origins and signatures differ). */
function comparable(job: Json): Json {
  return JSON.parse(
    JSON.stringify(job).replace(/https?:\/\/[^/"]+(\/[^"?]*)(\?[^"]*)?/g, (_m, p: string) => p),
  );
}

async function deliveriesOf(jobId: string) {
  return stack.deps.db.webhookDelivery.findMany({
    where: { jobId },
    include: { log: { orderBy: { id: 'asc' } } },
    orderBy: { id: 'asc' },
  });
}

describe('account webhooks', () => {
  it('get job.created and job.finished with the job and its tasks, signed with their secret', async () => {
    const { key } = await stack.createUser();
    const hook = await webhook(key, '/all', ['job.created', 'job.finished', 'job.failed']);

    const job = await createJob(stack, key, finishing, { tag: 'hooked' });
    const shown = await waitJob(stack, key, job.id);
    expect(shown.status).toBe('finished');
    const [created, finished] = await eventually(async () => {
      const got = receiver.at('/all', job.id);
      return got.length >= 2 ? got : null;
    });

    for (const r of [created!, finished!]) {
      expectSigned(r, hook.signing_secret);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['user-agent']).toMatch(/^convertd-webhooks\//);
    }
    expect(created!.body.toString().startsWith('{"event":"job.created","job":{')).toBe(true);
    expect(created!.json.job).toMatchObject({ id: job.id, tag: 'hooked', status: 'waiting' });
    // An import/raw is stored by the gateway and created ended; the export waits for release.
    expect(created!.json.job.tasks.map((t: Json) => [t.name, t.status])).toEqual([
      ['src', 'finished'],
      ['out', 'waiting'],
    ]);
    // The finished body is the job as GET /v2/jobs/{id} shows it (payloads never included).
    expect(finished!.json.event).toBe('job.finished');
    expect(comparable(finished!.json.job)).toEqual(comparable(shown));
    expect(JSON.stringify(finished!.json)).not.toContain('hello webhooks');

    // The export URL in the body is signed and works on the API's origin.
    const exportUrl = new URL(
      finished!.json.job.tasks.find((t: Json) => t.name === 'out').result.files[0].url,
    );
    const download = await fetch(`${stack.url}${exportUrl.pathname}${exportUrl.search}`);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('hello webhooks');

    const rows = await deliveriesOf(job.id);
    expect(rows.map((d) => [d.event, d.status, d.attempts, d.lastStatusCode])).toEqual([
      ['job.created', 'delivered', 1, 200],
      ['job.finished', 'delivered', 1, 200],
    ]);
    expect(rows[0]!.log).toMatchObject([{ attempt: 1, statusCode: 200, error: null }]);
  });

  it('get only the events they subscribed to; the job webhook_url gets job.failed too', async () => {
    const { key } = await stack.createUser();
    const onFailed = await webhook(key, '/failed-only', ['job.failed']);
    const onFinished = await webhook(key, '/finished-only', ['job.finished']);

    const job = await createJob(stack, key, failing, { webhook_url: receiver.url('/job-url') });
    expect((await waitJob(stack, key, job.id)).status).toBe('error');
    const [failed] = await eventually(async () => {
      const got = receiver.at('/failed-only', job.id);
      return got.length > 0 ? got : null;
    });
    const [own] = await eventually(async () => {
      const got = receiver.at('/job-url', job.id);
      return got.length > 0 ? got : null;
    });

    expect(failed!.json.event).toBe('job.failed');
    expect(failed!.json.job.status).toBe('error');
    expectSigned(failed!, onFailed.signing_secret);
    // A job's own webhook_url is signed with the user's newest webhook's secret.
    expect(own!.json.event).toBe('job.failed');
    expectSigned(own!, onFinished.signing_secret);
    const rows = await deliveriesOf(job.id);
    expect(rows.map((d) => [d.event, d.kind, d.webhookId])).toEqual([
      ['job.failed', 'account', onFailed.id],
      ['job.failed', 'job', null],
    ]);
    expect(receiver.at('/finished-only', job.id)).toEqual([]);
  });

  it('a job webhook_url gets job.finished, not job.created; signed with the user default secret', async () => {
    const { id: userId, key } = await stack.createUser();

    const job = await createJob(stack, key, finishing, { webhook_url: receiver.url('/own') });
    await waitJob(stack, key, job.id);
    const [own] = await eventually(async () => {
      const got = receiver.at('/own', job.id);
      return got.length > 0 ? got : null;
    });

    expect(own!.json.event).toBe('job.finished');
    expectSigned(own!, await defaultSecret(stack.deps.db, userId));
    expect((await deliveriesOf(job.id)).map((d) => d.event)).toEqual(['job.finished']);
  });
});

describe('order', () => {
  const both = ['job.created', 'job.finished'];
  const logOf = (path: string, jobId: string) =>
    receiver.log.filter((l) => l.path === path && l.jobId === jobId).map((l) => l.entry);

  it('a job that ends as it is created sends job.finished only once job.created was answered', async () => {
    const { key } = await stack.createUser();
    await webhook(key, '/ordered', both);
    // A slow answer to job.created: job.finished must not be sent meanwhile.
    receiver.holds.set('job.created', 500);
    try {
      const job = await createJob(stack, key, finishing);
      await eventually(async () => (logOf('/ordered', job.id).length === 4 ? true : null));

      expect(logOf('/ordered', job.id)).toEqual([
        'received job.created',
        'answered job.created',
        'received job.finished',
        'answered job.finished',
      ]);
    } finally {
      receiver.holds.clear();
    }
  });

  it('job.finished waits while job.created is retried', async () => {
    const { key } = await stack.createUser();
    await webhook(key, '/retried-first', both);
    receiver.answers.push(500);

    const job = await createJob(stack, key, finishing);
    await eventually(async () => {
      const rows = await deliveriesOf(job.id);
      return rows.length === 2 && rows.every((d) => d.status === 'delivered');
    });

    expect(receiver.at('/retried-first', job.id).map((r) => r.json.event)).toEqual([
      'job.created',
      'job.created',
      'job.finished',
    ]);
    expect((await deliveriesOf(job.id)).map((d) => [d.event, d.attempts])).toEqual([
      ['job.created', 2],
      ['job.finished', 1],
    ]);
  });
});

describe('failures', () => {
  it('retries after a 500 and then delivers, recording both attempts', async () => {
    const { key } = await stack.createUser();
    await webhook(key, '/flaky', ['job.created']);
    receiver.answers.push(500);

    const job = await createJob(stack, key, finishing);
    const delivered = await eventually(async () => {
      const [row] = await deliveriesOf(job.id);
      return row?.status === 'delivered' ? row : null;
    });

    expect(delivered.attempts).toBe(2);
    expect(delivered.log.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    expect(delivered.log[0]!.error).toBe('The receiver answered HTTP 500.');
    const bodies = receiver.at('/flaky', job.id).map((r) => r.json.event);
    expect(bodies).toEqual(['job.created', 'job.created']);
  });

  it('disables a webhook whose receiver answers 410 Gone, and sends it nothing more', async () => {
    const { key } = await stack.createUser();
    const hook = await webhook(key, '/gone', ['job.created']);
    receiver.answers.push(410);

    const job = await createJob(stack, key, finishing);
    const failed = await eventually(async () => {
      const [row] = await deliveriesOf(job.id);
      return row?.status === 'failed' ? row : null;
    });

    expect(failed).toMatchObject({ attempts: 1, lastStatusCode: 410 });
    const listed = await api(stack, key, 'GET', '/v2/users/me/webhooks');
    expect(listed.json.data).toMatchObject([{ id: hook.id, disabled: true }]);
    const next = await createJob(stack, key, finishing);
    expect(await deliveriesOf(next.id)).toEqual([]);
  });

  it('keeps retrying while the receiver is down, and delivers once it is up', async () => {
    const { key } = await stack.createUser();
    const late = await Receiver.create();
    const res = await api(stack, key, 'POST', '/v2/webhooks', {
      url: late.url('/late'),
      events: ['job.created'],
    });
    try {
      const job = await createJob(stack, key, finishing);
      const refused = await eventually(async () => {
        const [row] = await deliveriesOf(job.id);
        return row && row.attempts >= 1 && row.lastError !== null ? row : null;
      });
      expect(refused.status).toBe('pending');
      expect(refused.lastError).toMatch(/refused the connection/);
      expect(refused.lastStatusCode).toBeNull();

      await late.listen();
      const delivered = await eventually(async () => {
        const [row] = await deliveriesOf(job.id);
        return row?.status === 'delivered' ? row : null;
      });
      expect(delivered.attempts).toBeGreaterThanOrEqual(2);
      expect(late.at('/late', job.id)).toHaveLength(1);
      expectSigned(late.at('/late', job.id)[0]!, res.json.data.signing_secret);
    } finally {
      await late.close();
    }
  });
});

describe('the outbox', () => {
  it('is delivered by exactly one of several dispatchers', async () => {
    const second = await stack.startWorker({ engines: [], hostName: 'second-dispatcher' });
    try {
      const { key } = await stack.createUser();
      await webhook(key, '/many', ['job.created']);

      const upload = { up: { operation: 'import/upload' } };
      const jobs = await Promise.all([1, 2, 3, 4, 5, 6].map(() => createJob(stack, key, upload)));
      await eventually(async () => {
        const rows = await stack.deps.db.webhookDelivery.findMany({
          where: { jobId: { in: jobs.map((j) => j.id) } },
        });
        return rows.length === 6 && rows.every((r) => r.status === 'delivered');
      });

      for (const job of jobs) {
        expect(receiver.at('/many', job.id)).toHaveLength(1);
        expect((await deliveriesOf(job.id)).map((d) => d.attempts)).toEqual([1]);
      }
    } finally {
      await second.close();
    }
  });

  it('keeps a delivery pending while no dispatcher runs, and a new one delivers it', async () => {
    await stack.worker!.close();
    const { key } = await stack.createUser();
    const hook = await webhook(key, '/restart', ['job.created']);

    // An upload job waits for its file: only job.created happens.
    const job = await createJob(stack, key, { up: { operation: 'import/upload' } });
    const [pending] = await deliveriesOf(job.id);
    expect(pending).toMatchObject({ status: 'pending', attempts: 0, event: 'job.created' });
    expect(receiver.at('/restart', job.id)).toEqual([]);

    await stack.startWorker({ engines: [], hostName: 'restarted' });
    const [got] = await eventually(async () => {
      const list = receiver.at('/restart', job.id);
      return list.length > 0 ? list : null;
    });
    expectSigned(got!, hook.signing_secret);
    expect(got!.json.job.tasks[0].result.form.url).toMatch(/\/upload\//);
  });
});
