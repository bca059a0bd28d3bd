// The sync API holds many waiting requests on one pub/sub subscription, and answers all of them
// when the job ends.
import http from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, eventually, startStack, type Stack } from '../../../test/harness';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

describe('sync API waiters', () => {
  it('answers 300 concurrent waits on one job once it finishes, and frees every waiter', async () => {
    const user = await stack.createUser();
    const created = await api(stack, user.key, 'POST', '/v2/jobs', {
      tasks: {
        in: { operation: 'import/upload' },
        out: { operation: 'export/url', input: 'in' },
      },
    });
    const job = created.json.data;
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    const waits = Array.from({ length: 300 }, () =>
      fetchJson(`${stack.syncUrl}/v2/jobs/${job.id}`, user.key, agent).then((body) => ({
        body,
        at: Date.now(),
      })),
    );
    await eventually(async () => stack.deps.waiters.size >= 300, 20_000);

    const uploadedAt = Date.now();
    const form = job.tasks.find((t: { name: string }) => t.name === 'in').result.form;
    const body = new FormData();
    body.append('file', new Blob(['waiting is over']), 'waited.txt');
    expect((await fetch(form.url, { method: 'POST', body })).status).toBe(201);

    const answers = await Promise.all(waits);
    for (const { body, at } of answers) {
      expect(body.data.status).toBe('finished');
      expect(at).toBeGreaterThanOrEqual(uploadedAt);
    }
    expect(stack.deps.waiters.size).toBe(0);
    agent.destroy();
  });

  it('frees the waiter of a client that goes away', async () => {
    const user = await stack.createUser();
    const created = await api(stack, user.key, 'POST', '/v2/import/upload');
    const controller = new AbortController();
    const pending = fetch(`${stack.syncUrl}/v2/tasks/${created.json.data.id}`, {
      headers: { authorization: `Bearer ${user.key}` },
      signal: controller.signal,
    }).catch((err: unknown) => err);
    await eventually(async () => stack.deps.waiters.size === 1);
    controller.abort();
    await pending;
    await eventually(async () => stack.deps.waiters.size === 0, 5_000);
  });
});

function fetchJson(url: string, key: string, agent: http.Agent): Promise<any> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(JSON.parse(text)));
      })
      .on('error', reject);
  });
}
