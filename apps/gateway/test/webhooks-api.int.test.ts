// Account webhooks over the API (API.md §2.8): create, list with filters and pages, delete,
// scopes, and the 422s of a bad body. Private URLs are refused here, as in production.
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, startStack, type Stack } from '../../../test/harness';
import { MAX_WEBHOOKS } from '../src/routes/webhooks';

let stack: Stack;
let key: string;
let other: string;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;

beforeAll(async () => {
  stack = await startStack({ worker: false, env: { CONVERTD_ALLOW_PRIVATE_URLS: 'false' } });
  ({ key } = await stack.createUser());
  ({ key: other } = await stack.createUser());
});

afterAll(async () => {
  await stack?.close();
});

async function create(k: string, body: unknown) {
  return api(stack, k, 'POST', '/v2/webhooks', body);
}

describe('POST /v2/webhooks', () => {
  it('answers 201 with the webhook and its signing secret, as compact {"data":', async () => {
    const res = await create(key, {
      url: 'https://hooks.example.com/convertd',
      events: ['job.finished', 'job.failed'],
    });

    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.text.startsWith('{"data":{')).toBe(true);
    const hook = res.json.data;
    expect(Object.keys(hook)).toEqual([
      'id',
      'url',
      'events',
      'signing_secret',
      'disabled',
      'failing',
      'created_at',
      'updated_at',
      'links',
    ]);
    expect(hook).toMatchObject({
      url: 'https://hooks.example.com/convertd',
      events: ['job.finished', 'job.failed'],
      disabled: false,
      failing: false,
      links: { self: `${stack.url}/v2/webhooks/${hook.id}` },
    });
    expect(hook.id).toMatch(UUID);
    expect(hook.signing_secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(hook.created_at).toMatch(TIMESTAMP);
    expect(hook.updated_at).toMatch(TIMESTAMP);
  });

  it('gives each webhook its own secret', async () => {
    const body = { url: 'https://hooks.example.com/twice', events: ['job.created'] };
    const [a, b] = [await create(key, body), await create(key, body)];

    expect(a.json.data.signing_secret).not.toBe(b.json.data.signing_secret);
  });

  it.each([
    [{ events: ['job.created'] }, 'url', /required/],
    [{ url: 'not a url', events: ['job.created'] }, 'url', /format is invalid/],
    [{ url: 'ftp://example.com/x', events: ['job.created'] }, 'url', /http or https/],
    [{ url: 'http://127.0.0.1:8080/hook', events: ['job.created'] }, 'url', /loopback, private/],
    [{ url: 'http://localhost/hook', events: ['job.created'] }, 'url', /loopback, private/],
    [{ url: 'http://10.1.2.3/hook', events: ['job.created'] }, 'url', /loopback, private/],
    [{ url: 'http://[::1]/hook', events: ['job.created'] }, 'url', /loopback, private/],
    [{ url: 'https://example.com/h' }, 'events', /non-empty array/],
    [{ url: 'https://example.com/h', events: [] }, 'events', /non-empty array/],
    [{ url: 'https://example.com/h', events: ['job.deleted'] }, 'events', /job\.deleted/],
    [{ url: 'https://example.com/h', events: 'job.created' }, 'events', /non-empty array/],
  ])('refuses %j with 422 INVALID_DATA on %s', async (body, field, message) => {
    const res = await create(key, body);

    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ code: 'INVALID_DATA' });
    expect(res.json.errors[field][0]).toMatch(message);
  });

  it('refuses a webhook past the per-account limit with 422, until one is deleted', async () => {
    const { id: userId, key: full } = await stack.createUser();
    await stack.deps.db.webhook.createMany({
      data: Array.from({ length: MAX_WEBHOOKS }, (_, i) => ({
        id: randomUUID(),
        userId,
        url: `https://hooks.example.com/${i}`,
        events: ['job.finished'],
        signingSecret: `secret-${i}`,
      })),
    });
    const body = { url: 'https://hooks.example.com/one-more', events: ['job.finished'] };

    const refused = await create(full, body);
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({
      code: 'INVALID_DATA',
      errors: { url: [expect.any(String)] },
    });
    const first = (await api(stack, full, 'GET', '/v2/users/me/webhooks')).json.data[0];
    expect((await api(stack, full, 'DELETE', `/v2/webhooks/${first.id}`)).status).toBe(204);
    expect((await create(full, body)).status).toBe(201);
    // Other accounts are not affected.
    expect((await create(key, body)).status).toBe(201);
  });

  it('refuses a body that is not an object', async () => {
    const res = await create(key, '"https://example.com"');

    expect(res.status).toBe(422);
    expect(Object.keys(res.json.errors).sort()).toEqual(['events', 'url']);
  });
});

describe('GET /v2/users/me/webhooks', () => {
  it('lists only the caller’s webhooks, with secrets, newest first, in pages', async () => {
    const fresh = await stack.createUser();
    const made: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await create(fresh.key, {
        url: `https://hooks.example.com/page/${n}`,
        events: ['job.created'],
      });
      made.push(res.json.data.id);
    }
    await create(other, { url: 'https://hooks.example.com/page/1', events: ['job.created'] });

    const all = await api(stack, fresh.key, 'GET', '/v2/users/me/webhooks');
    expect(all.status).toBe(200);
    expect(all.json.data.map((h: { id: string }) => h.id)).toEqual([...made].reverse());
    expect(all.json.data[0].signing_secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(all.json.meta).toMatchObject({ current_page: 1, from: 1, to: 3, per_page: 100 });

    const second = await api(stack, fresh.key, 'GET', '/v2/users/me/webhooks?per_page=1&page=2');
    expect(second.json.data.map((h: { id: string }) => h.id)).toEqual([made[1]]);
    expect(second.json.links).toMatchObject({
      prev: `${stack.url}/v2/users/me/webhooks?per_page=1&page=1`,
      next: `${stack.url}/v2/users/me/webhooks?per_page=1&page=3`,
    });
  });

  it('filters by exact url (filter[url], encoded or not)', async () => {
    const fresh = await stack.createUser();
    const wanted = 'https://hooks.example.com/filter?x=1';
    await create(fresh.key, { url: wanted, events: ['job.failed'] });
    await create(fresh.key, { url: 'https://hooks.example.com/filter', events: ['job.failed'] });

    for (const route of [
      `/v2/users/me/webhooks?filter[url]=${encodeURIComponent(wanted)}`,
      `/v2/users/me/webhooks?filter%5Burl%5D=${encodeURIComponent(wanted)}`,
    ]) {
      const res = await api(stack, fresh.key, 'GET', route);
      expect(res.json.data.map((h: { url: string }) => h.url)).toEqual([wanted]);
    }
  });
});

describe('DELETE /v2/webhooks/{id}', () => {
  it('deletes with 204 and no body; then 404 JSON', async () => {
    const id = (await create(key, { url: 'https://example.com/del', events: ['job.created'] })).json
      .data.id;

    const res = await api(stack, key, 'DELETE', `/v2/webhooks/${id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');

    const again = await api(stack, key, 'DELETE', `/v2/webhooks/${id}`);
    expect(again.status).toBe(404);
    expect(again.json).toMatchObject({ code: 'NOT_FOUND' });
    const listed = await api(stack, key, 'GET', '/v2/users/me/webhooks');
    expect(listed.json.data.map((h: { id: string }) => h.id)).not.toContain(id);
  });

  it('answers 404 for another user’s webhook and leaves it alone', async () => {
    const id = (await create(other, { url: 'https://example.com/mine', events: ['job.created'] }))
      .json.data.id;

    const res = await api(stack, key, 'DELETE', `/v2/webhooks/${id}`);
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: 'NOT_FOUND' });
    const listed = await api(stack, other, 'GET', '/v2/users/me/webhooks');
    expect(listed.json.data.map((h: { id: string }) => h.id)).toContain(id);
  });

  it('answers 404 for an id that is not one', async () => {
    const res = await api(stack, key, 'DELETE', '/v2/webhooks/12345');

    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('scopes', () => {
  it('needs webhook.write to create and delete, webhook.read to list', async () => {
    const readOnly = await stack.createUser({ scopes: ['webhook.read'] });
    const writeOnly = await stack.createUser({ scopes: ['webhook.write'] });
    const body = { url: 'https://example.com/scoped', events: ['job.created'] };

    const denied = await create(readOnly.key, body);
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({ code: 'FORBIDDEN' });
    expect(denied.json.message).toMatch(/webhook\.write/);

    const made = await create(writeOnly.key, body);
    expect(made.status).toBe(201);
    const listDenied = await api(stack, writeOnly.key, 'GET', '/v2/users/me/webhooks');
    expect(listDenied.status).toBe(403);
    expect(listDenied.json.message).toMatch(/webhook\.read/);

    expect((await api(stack, readOnly.key, 'GET', '/v2/users/me/webhooks')).status).toBe(200);
    const delDenied = await api(stack, readOnly.key, 'DELETE', `/v2/webhooks/${made.json.data.id}`);
    expect(delDenied.status).toBe(403);
    expect(
      (await api(stack, writeOnly.key, 'DELETE', `/v2/webhooks/${made.json.data.id}`)).status,
    ).toBe(204);
  });

  it('answers 401 without a key', async () => {
    const res = await fetch(`${stack.url}/v2/users/me/webhooks`);

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: 'Unauthenticated.', code: 'UNAUTHENTICATED' });
  });
});
