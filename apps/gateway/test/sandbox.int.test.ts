// Sandbox mode (API.md §7): the sandbox origin (its own ports and host names) takes only sandbox
// keys, and sandbox jobs import only files whose MD5 the user whitelisted, through the official
// node SDK and the whitelist API.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { ConvertdCloudConvert } from '@convertd/cloudconvert-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, CORPUS, startStack, type Stack } from '../../../test/harness';
import { rawRequest } from './wire-helpers';

const PNG = path.join(CORPUS, 'image/basn6a16.png');
const PNG_MD5 = createHash('md5').update(fs.readFileSync(PNG)).digest('hex');

let stack: Stack;
let live: { id: number; key: string };
let sandbox: { id: number; key: string };
let cc: ConvertdCloudConvert;
let files: http.Server;

beforeAll(async () => {
  stack = await startStack({ sandbox: true });
  live = await stack.createUser({ credits: 50 });
  sandbox = await stack.createUser({ sandbox: true, credits: 50 });
  cc = new ConvertdCloudConvert(sandbox.key, {
    url: stack.sandboxUrl!,
    syncUrl: stack.sandboxSyncUrl!,
  });
  files = http.createServer((_req, res) => res.end(fs.readFileSync(PNG)));
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  files?.close();
  await stack?.close();
});

/** GET with a key; a `host` header goes through node:http (fetch does not send it). */
async function at(
  origin: string,
  key: string,
  route: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any }> {
  const res = await rawRequest(`${origin}${route}`, {
    headers: { authorization: `Bearer ${key}`, ...headers },
  });
  return { status: res.status, json: res.json };
}

async function uploadJob(client: ConvertdCloudConvert) {
  const job = await client.jobs.create({
    tasks: {
      upload: { operation: 'import/upload' },
      jpg: { operation: 'convert', input: 'upload', output_format: 'jpg' },
      out: { operation: 'export/url', input: 'jpg' },
    },
  });
  const task = job.tasks.find((t) => t.name === 'upload')!;
  await client.tasks.upload(task, fs.createReadStream(PNG), 'basn6a16.png');
  return { created: job, done: await client.jobs.wait(job.id) };
}

/** What storage holds for a task (LocalStorage keeps `tasks/<task>/<file>` under objects/). */
function storedFiles(taskId: string): string[] {
  const dir = path.join(stack.config.dataDir, 'objects', 'tasks', taskId);
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

const byName = (job: { tasks: any[] }, name: string) => job.tasks.find((t) => t.name === name);

describe('sandbox origin and keys', () => {
  it('accepts only sandbox keys on the sandbox ports and host names, with a JSON 401', async () => {
    const refused = await at(stack.sandboxUrl!, live.key, '/v2/users/me');
    expect(refused.status).toBe(401);
    expect(refused.json.code).toBe('UNAUTHENTICATED');
    expect((await at(stack.sandboxSyncUrl!, live.key, '/v2/users/me')).status).toBe(401);
    for (const host of [
      'api.sandbox.example.test',
      'sandbox.example.test',
      'sync.api.sandbox.example.test',
    ]) {
      const viaHost = await at(stack.url, live.key, '/v2/users/me', { host });
      expect(viaHost.status, host).toBe(401);
      expect((await at(stack.url, sandbox.key, '/v2/users/me', { host })).status, host).toBe(200);
    }
    expect(
      (await at(stack.url, live.key, '/v2/users/me', { host: 'api.example.test' })).status,
    ).toBe(200);
    expect((await cc.users.me()).id).toBe(sandbox.id);
  });

  it('makes a sandbox key’s jobs sandbox jobs on the main origin too', async () => {
    const created = await api(stack, sandbox.key, 'POST', '/v2/jobs', {
      tasks: { raw: { operation: 'import/raw', file: 'hello', filename: 'a.txt' } },
    });
    expect(created.status).toBe(201);
    const job = await stack.deps.db.job.findUniqueOrThrow({
      where: { id: created.json.data.id },
      include: { tasks: true },
    });
    expect(job.sandbox).toBe(true);
    expect(job.tasks.every((t) => t.sandbox)).toBe(true);

    const standalone = await api(stack, sandbox.key, 'POST', '/v2/import/raw', {
      file: 'x',
      filename: 'x.txt',
    });
    const task = await stack.deps.db.task.findUniqueOrThrow({
      where: { id: standalone.json.data.id },
    });
    expect(task.sandbox).toBe(true);
    const liveTask = await api(stack, live.key, 'POST', '/v2/import/raw', {
      file: 'x',
      filename: 'x.txt',
    });
    expect(
      (await stack.deps.db.task.findUniqueOrThrow({ where: { id: liveTask.json.data.id } }))
        .sandbox,
    ).toBe(false);
  });

  it('points the URLs it returns back at the sandbox origin', async () => {
    const created = await cc.jobs.create({ tasks: { upload: { operation: 'import/upload' } } });
    // (The SDK's Job type has no `links`; the wire object does.)
    const links = (created as unknown as { links: { self: string } }).links;
    expect(links.self).toBe(`${stack.sandboxUrl}/v2/jobs/${created.id}`);
    expect(
      byName(created, 'upload').result.form.url.startsWith(`${stack.sandboxUrl}/upload/`),
    ).toBe(true);
    const viaHost = await at(stack.url, sandbox.key, `/v2/jobs/${created.id}`, {
      host: 'api.sandbox.example.test',
    });
    expect(viaHost.json.data.links.self).toBe(
      `http://api.sandbox.example.test/v2/jobs/${created.id}`,
    );
    // The sync API answers once a task has ended: ask about one that has.
    const ended = await cc.jobs.wait(
      (
        await cc.jobs.create({
          tasks: { raw: { operation: 'import/raw', file: 'x', filename: 'x.txt' } },
        })
      ).id,
    );
    const rawId = byName(ended, 'raw').id;
    const viaSyncHost = await at(stack.url, sandbox.key, `/v2/tasks/${rawId}`, {
      host: 'sync.api.sandbox.example.test',
    });
    expect(viaSyncHost.json.data.links.self).toBe(
      `http://api.sandbox.example.test/v2/tasks/${rawId}`,
    );
    const viaSyncPort = await at(stack.sandboxSyncUrl!, sandbox.key, `/v2/tasks/${rawId}`);
    expect(viaSyncPort.json.data.links.self).toBe(`${stack.sandboxUrl}/v2/tasks/${rawId}`);
  });
});

describe('sandbox whitelist', () => {
  it('refuses an upload whose MD5 is not whitelisted, and keeps none of its bytes', async () => {
    const { done } = await uploadJob(cc);

    expect(done.status).toBe('error');
    const upload = byName(done, 'upload');
    expect(upload).toMatchObject({
      status: 'error',
      code: 'SANDBOX_FILE_NOT_ALLOWED',
      message: 'The file basn6a16.png is not whitelisted for sandbox use',
    });
    expect(upload.result.files[0]).toEqual({ filename: 'basn6a16.png', md5: PNG_MD5 });
    expect(byName(done, 'jpg')).toMatchObject({ status: 'error', code: 'INPUT_TASK_FAILED' });
    expect(byName(done, 'out')).toMatchObject({ status: 'error', code: 'INPUT_TASK_FAILED' });
    expect(await stack.deps.db.taskFile.count({ where: { taskId: upload.id } })).toBe(0);
    expect(storedFiles(upload.id)).toEqual([]);
  });

  it('processes a whitelisted file for free, until the entry is removed (API)', async () => {
    const added = await api(stack, sandbox.key, 'POST', '/v2/users/me/sandbox/files', {
      md5: PNG_MD5.toUpperCase(),
      filename: 'basn6a16.png',
    });
    expect(added.status).toBe(201);
    expect(added.text.startsWith('{"data":')).toBe(true);
    expect(added.json.data).toMatchObject({ md5: PNG_MD5, filename: 'basn6a16.png' });
    const listed = await api(stack, sandbox.key, 'GET', '/v2/users/me/sandbox/files');
    expect(listed.json.data.map((f: { md5: string }) => f.md5)).toEqual([PNG_MD5]);

    const { done } = await uploadJob(cc);
    expect(done.status).toBe('finished');
    expect(byName(done, 'upload').result.files[0].md5).toBe(PNG_MD5);
    expect(storedFiles(byName(done, 'upload').id)).toHaveLength(1);
    expect(byName(done, 'jpg').credits).toBe(0);
    const [file] = cc.jobs.getExportUrls(done);
    expect(file!.url!.startsWith(`${stack.sandboxUrl}/download/`)).toBe(true);
    expect((await fetch(file!.url!)).status).toBe(200);
    expect((await cc.users.me()).credits).toBe(50);

    const removed = await api(
      stack,
      sandbox.key,
      'DELETE',
      `/v2/users/me/sandbox/files/${PNG_MD5}`,
    );
    expect(removed.status).toBe(204);
    expect(
      (await api(stack, sandbox.key, 'DELETE', `/v2/users/me/sandbox/files/${PNG_MD5}`)).status,
    ).toBe(404);
    const again = await uploadJob(cc);
    expect(byName(again.done, 'upload').code).toBe('SANDBOX_FILE_NOT_ALLOWED');
  });

  it('checks url and base64 imports, but not raw text', async () => {
    const { port } = files.address() as AddressInfo;
    const job = await cc.jobs.create({
      tasks: {
        url: { operation: 'import/url', url: `http://127.0.0.1:${port}/pic.png` },
        b64: {
          operation: 'import/base64',
          file: fs.readFileSync(PNG).toString('base64'),
          filename: 'b.png',
        },
      },
    });
    // The job fails with its first failed task: wait for each import itself.
    const ended = async (name: string) => cc.tasks.wait(byName(job, name).id);
    expect(await ended('url')).toMatchObject({
      code: 'SANDBOX_FILE_NOT_ALLOWED',
      message: 'The file pic.png is not whitelisted for sandbox use',
      result: { files: [{ filename: 'pic.png', md5: PNG_MD5 }] },
    });
    expect(await ended('b64')).toMatchObject({
      code: 'SANDBOX_FILE_NOT_ALLOWED',
      message: 'The file b.png is not whitelisted for sandbox use',
    });

    const text = await cc.jobs.wait(
      (
        await cc.jobs.create({
          tasks: {
            raw: { operation: 'import/raw', file: 'generated text', filename: 'note.txt' },
            out: { operation: 'export/url', input: 'raw' },
          },
        })
      ).id,
    );
    expect(text.status).toBe('finished');
    expect(byName(text, 'out').result.files[0].filename).toBe('note.txt');
  });

  it('checks a standalone base64 import and its retry, which the worker runs', async () => {
    const user = await stack.createUser({ sandbox: true, credits: 0 });
    const own = new ConvertdCloudConvert(user.key, { url: stack.url, syncUrl: stack.syncUrl });
    const content = Buffer.from('a sandbox retry');
    const created = await api(stack, user.key, 'POST', '/v2/import/base64', {
      file: content.toString('base64'),
      filename: 'r.txt',
    });
    expect(created.status).toBe(201);
    expect(created.json.data).toMatchObject({ status: 'error', code: 'SANDBOX_FILE_NOT_ALLOWED' });
    expect(storedFiles(created.json.data.id)).toEqual([]);

    const retried = async () => {
      const res = await api(stack, user.key, 'POST', `/v2/tasks/${created.json.data.id}/retry`);
      expect(res.status).toBe(201);
      return own.tasks.wait(res.json.data.id);
    };
    const again = await retried();
    expect(again).toMatchObject({ status: 'error', code: 'SANDBOX_FILE_NOT_ALLOWED' });
    expect(storedFiles(again.id)).toEqual([]);

    await api(stack, user.key, 'POST', '/v2/users/me/sandbox/files', {
      md5: createHash('md5').update(content).digest('hex'),
    });
    const done = await retried();
    expect(done).toMatchObject({ status: 'finished', credits: 0 });
    expect(storedFiles(done.id)).toHaveLength(1);
  });

  it('does not apply the whitelist to live keys', async () => {
    const liveCc = new ConvertdCloudConvert(live.key, { url: stack.url, syncUrl: stack.syncUrl });
    const { done } = await uploadJob(liveCc);
    expect(done.status).toBe('finished');
    expect(byName(done, 'jpg').credits).toBe(1);
  });

  it('validates whitelist entries and needs the user scopes', async () => {
    const bad = await api(stack, sandbox.key, 'POST', '/v2/users/me/sandbox/files', {
      md5: 'nope',
    });
    expect(bad.status).toBe(422);
    expect(bad.json.errors.md5).toBeDefined();
    const reader = await stack.createUser({ sandbox: true, scopes: ['user.read'] });
    const denied = await api(stack, reader.key, 'POST', '/v2/users/me/sandbox/files', {
      md5: PNG_MD5,
    });
    expect(denied.status).toBe(403);
    expect((await api(stack, reader.key, 'GET', '/v2/users/me/sandbox/files')).json).toEqual({
      data: [],
    });
  });
});
