// Credentials in task payloads (issue 5): the worker receives them as sent, while no response
// (with or without include=payload, lists, retries), no database column and no log line at debug
// level carries them.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, CORPUS, startStack, type Stack } from '../../../test/harness';
import { SECRET_MASK } from '../../../packages/api/src/index';
import { byName, createJob, createTask, download, startServer, waitJob, waitTask } from './support';
import type { Json, TestServer } from './support';

const PDF = fs.readFileSync(path.join(CORPUS, 'pdf/libreoffice-form.pdf'));
const secret = (label: string) => `${label}-${randomBytes(9).toString('hex')}`;
const HEADER = secret('header');
const OPEN = secret('open');
const OWNER = secret('owner');
const PAGE_COOKIE = secret('cookie');
const SECRETS = [HEADER, OPEN, OWNER, PAGE_COOKIE];

let stack: Stack;
let key: string;
let server: TestServer;
const logs: string[] = [];
/** Every response body the test saw. */
const bodies: string[] = [];

async function call(method: string, route: string, body?: unknown) {
  const res = await api(stack, key, method, route, body);
  bodies.push(res.text);
  return res;
}

beforeAll(async () => {
  server = await startServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${HEADER}`) {
      res.statusCode = 401;
      res.end('no');
      return;
    }
    if (req.url === '/page') {
      res.setHeader('content-type', 'text/html');
      res.end(`<h1>${req.headers['x-page'] === PAGE_COOKIE ? 'header seen' : 'no header'}</h1>`);
      return;
    }
    res.setHeader('content-type', 'application/pdf');
    res.end(PDF);
  });
  stack = await startStack({
    env: { LOG_LEVEL: 'debug' },
    logStream: { write: (line: string) => void logs.push(line) },
  });
  ({ key } = await stack.createUser());
});

afterAll(async () => {
  await stack?.close();
  await server?.close();
});

describe('secrets in task payloads', () => {
  let job: Json;

  it('the worker gets every secret as sent: headers, PDF passwords, page headers', async () => {
    const created = await createJob(stack, key, {
      fetch: {
        operation: 'import/url',
        url: `${server.origin}/doc.pdf`,
        headers: { Authorization: `Bearer ${HEADER}` },
      },
      lock: {
        operation: 'pdf/encrypt',
        input: 'fetch',
        set_password: OPEN,
        set_owner_password: OWNER,
      },
      unlock: { operation: 'pdf/decrypt', input: 'lock', password: OPEN },
      page: {
        operation: 'capture-website',
        url: `${server.origin}/page`,
        output_format: 'pdf',
        headers: { Authorization: `Bearer ${HEADER}`, 'X-Page': PAGE_COOKIE },
      },
      out: { operation: 'export/url', input: ['lock', 'unlock', 'page'] },
    });
    bodies.push(JSON.stringify(created));
    job = await waitJob(stack, key, created.id, 120_000);
    bodies.push(JSON.stringify(job));

    expect(job.tasks.map((t: Json) => [t.name, t.status, t.code])).toEqual(
      ['fetch', 'lock', 'unlock', 'page', 'out'].map((n) => [n, 'finished', null]),
    );
    const [locked, unlocked, page] = byName(job, 'out').result.files as { url: string }[];
    const lockedPdf = (await download(locked!.url)).toString('latin1');
    expect(lockedPdf).toContain('/Encrypt');
    expect((await download(unlocked!.url)).toString('latin1')).not.toContain('/Encrypt');
    // The page answered 401 unless the Authorization header reached Chromium.
    expect((await download(page!.url)).length).toBeGreaterThan(500);
    expect(server.requests.filter((r) => r.url === '/page').length).toBeGreaterThan(0);
    expect(server.requests.every((r) => r.headers.authorization === `Bearer ${HEADER}`)).toBe(true);
  });

  it('shows payloads with each secret masked, keys and header names kept', async () => {
    const fetchTask = byName(job, 'fetch');
    const shown = (await call('GET', `/v2/tasks/${fetchTask.id}?include=payload`)).json.data;
    expect(shown.payload).toEqual({
      operation: 'import/url',
      url: `${server.origin}/doc.pdf`,
      headers: { Authorization: SECRET_MASK },
    });
    const lock = (await call('GET', `/v2/tasks/${byName(job, 'lock').id}?include=payload`)).json
      .data;
    expect(lock.payload).toMatchObject({
      set_password: SECRET_MASK,
      set_owner_password: SECRET_MASK,
    });
    const page = (await call('GET', `/v2/tasks/${byName(job, 'page').id}?include=payload`)).json
      .data;
    expect(page.payload.headers).toEqual({ Authorization: SECRET_MASK, 'X-Page': SECRET_MASK });

    for (const route of [
      `/v2/tasks/${fetchTask.id}`,
      `/v2/tasks?include=payload`,
      `/v2/tasks?filter[job_id]=${job.id}&include=payload`,
      `/v2/jobs/${job.id}`,
      `/v2/jobs?include=tasks`,
      `/v2/tasks/${byName(job, 'unlock').id}?include=payload,depends_on_tasks,job`,
    ]) {
      expect((await call('GET', route)).status).toBe(200);
    }
  });

  it('a retry copies the sealed secrets: it runs with them and shows them masked', async () => {
    const retried = await call('POST', `/v2/tasks/${byName(job, 'fetch').id}/retry`);
    expect(retried.status).toBe(201);
    const done = await waitTask(stack, key, retried.json.data.id);
    expect(done.status).toBe('finished');
    const shown = await call('GET', `/v2/tasks/${done.id}?include=payload`);
    expect(shown.json.data.payload.headers).toEqual({ Authorization: SECRET_MASK });
  });

  it('a standalone task seals its secrets too', async () => {
    const task = await createTask(stack, key, 'import/url', {
      url: `${server.origin}/again.pdf`,
      headers: { Authorization: `Bearer ${HEADER}` },
    });
    bodies.push(JSON.stringify(task));
    expect((await waitTask(stack, key, task.id)).status).toBe('finished');
    const decrypt = await call('POST', '/v2/pdf/decrypt', { input: task.id, password: OPEN });
    expect(decrypt.status).toBe(201);
    expect((await waitTask(stack, key, decrypt.json.data.id)).status).toBe('finished');
    const shown = await call('GET', `/v2/tasks/${decrypt.json.data.id}?include=payload`);
    expect(shown.json.data.payload).toEqual({ input: [task.id], password: SECRET_MASK });
  });

  it('no response body carries a secret', () => {
    expect(bodies.length).toBeGreaterThan(10);
    for (const body of bodies) {
      for (const s of SECRETS) {
        expect(body).not.toContain(s);
      }
    }
  });

  it('the database keeps only ciphertext', async () => {
    const rows = await stack.deps.db.$queryRaw<{ payload: string }[]>`
      SELECT payload::text AS payload FROM tasks`;
    const all = rows.map((r) => r.payload).join('\n');
    expect(rows.length).toBeGreaterThan(5);
    expect(all).toContain('cvd1.');
    for (const s of SECRETS) {
      expect(all).not.toContain(s);
    }
  });

  it('no log line carries a secret, at debug level', () => {
    expect(logs.length).toBeGreaterThan(20);
    expect(logs.some((l) => l.includes('"level":20'))).toBe(true);
    for (const line of logs) {
      for (const s of SECRETS) {
        expect(line).not.toContain(s);
      }
    }
  });
});
