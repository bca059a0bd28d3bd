// The upload target and downloads over real HTTP (API.md §4, §5.3): multipart bodies exactly as
// each SDK builds them, then export/url downloads with their headers and byte ranges.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CORPUS, startStack, type Stack } from '../../../test/harness';
import {
  call,
  expectEnvelope,
  expectError,
  jsonOf,
  nodeMultipart,
  type WireResponse,
} from './wire-helpers';

let stack: Stack;
let key: string;

const PDF_NAME = "kids' stories & tales [v2] 100%.pdf";
const JPG_NAME = 'Katze 猫 progressive (1).jpg';
const PDF = fs.readFileSync(path.join(CORPUS, 'pdf', PDF_NAME));
const JPG = fs.readFileSync(path.join(CORPUS, 'image', JPG_NAME));

beforeAll(async () => {
  // No engines: the worker runs only imports and exports, as a machine without LibreOffice would.
  stack = await startStack({ workerOptions: { engines: [] } });
  ({ key } = await stack.createUser());
});

afterAll(async () => {
  await stack?.close();
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

interface Multipart {
  body: Buffer | (() => Readable);
  contentType: string;
}

/** PHP (php-http MultipartStreamBuilder): quoted boundary, per-part Content-Length. */
function phpMultipart(name: string, content: Buffer): Multipart {
  const b = '5f3c1a2b9d8e7f60a1b2c3d4e5f60718';
  const head = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Length: ${content.length}\r\nContent-Type: application/pdf\r\n\r\n`;
  return {
    body: Buffer.concat([Buffer.from(head), content, Buffer.from(`\r\n--${b}--\r\n`)]),
    contentType: `multipart/form-data; boundary="${b}"`,
  };
}

/** Python (requests): quoted filename, no Content-Type on the file part. */
function pythonMultipart(name: string, content: Buffer): Multipart {
  const b = '9a0f3b6c2d1e4f5a8b7c6d5e4f3a2b1c';
  const head = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n\r\n`;
  return {
    body: Buffer.concat([Buffer.from(head), content, Buffer.from(`\r\n--${b}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${b}`,
  };
}

/** .NET (MultipartFormDataContent): a text field first, MIME-encoded filename plus `filename*=`. */
function dotnetMultipart(name: string, content: Buffer): Multipart {
  const b = '0d4b4bd6-4a6e-4d8e-9b3f-8c1d2e3f4a5b';
  const field = `--${b}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: form-data; name=acl\r\n\r\nprivate\r\n`;
  const mime = `=?utf-8?B?${Buffer.from(name).toString('base64')}?=`;
  const star = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  const head = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="${mime}"; filename*=utf-8''${star}\r\n\r\n`;
  return {
    body: Buffer.concat([Buffer.from(field + head), content, Buffer.from(`\r\n--${b}--\r\n`)]),
    contentType: `multipart/form-data; boundary="${b}"`,
  };
}

/** node 3 framing, sent chunked (no Content-Length) from a stream in small pieces. */
function chunkedMultipart(name: string, content: Buffer): Multipart {
  const { body, contentType } = nodeMultipart(name, content);
  return {
    body: () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < body.length; i += 7919) {
            yield body.subarray(i, i + 7919);
          }
        })(),
      ),
    contentType,
  };
}

async function post(
  url: string,
  multipart: Multipart,
  headers: Record<string, string> = {},
): Promise<WireResponse> {
  const source = multipart.body;
  const stream = typeof source === 'function';
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': multipart.contentType, ...headers },
    body: stream ? Readable.toWeb(source()) : source,
    ...(stream ? { duplex: 'half' } : {}),
    // An upload the server never answers fails the test instead of hanging the file.
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
    text,
    json: jsonOf(text),
  };
}

async function uploadTask(): Promise<any> {
  const res = await call(stack, key, 'POST', '/v2/import/upload', {
    body: { name: 'upload-test' },
  });
  expect(res.status).toBe(201);
  return res.json.data;
}

async function task(id: string): Promise<any> {
  return (await call(stack, key, 'GET', `/v2/tasks/${id}`)).json.data;
}

/** Exports a finished upload and waits for the export on the sync port. */
async function exportOf(
  inputId: string,
  extra: Record<string, unknown> = {},
): Promise<{ filename: string; size: number; url: string }> {
  const created = await call(stack, key, 'POST', '/v2/export/url', {
    body: { input: inputId, ...extra },
  });
  expect(created.status).toBe(201);
  const done = await call(stack, key, 'GET', `/v2/tasks/${created.json.data.id}`, {
    base: stack.syncUrl,
  });
  expect(done.json.data.status).toBe('finished');
  return done.json.data.result.files[0];
}

describe('upload target', () => {
  const dialects: [string, (name: string, content: Buffer) => Multipart, string, Buffer][] = [
    ['node 3 (unquoted filename, lower-case headers)', nodeMultipart, PDF_NAME, PDF],
    ['PHP (quoted boundary)', phpMultipart, PDF_NAME, PDF],
    ['Python (no part Content-Type)', pythonMultipart, JPG_NAME, JPG],
    ['.NET (filename*=)', dotnetMultipart, JPG_NAME, JPG],
    ['chunked, no Content-Length', chunkedMultipart, PDF_NAME, PDF],
  ];

  for (const [dialect, build, name, content] of dialects) {
    it(`takes a ${dialect} upload without Authorization and keeps name, size and md5`, async () => {
      const t = await uploadTask();
      expect(t.result.form.url.startsWith(`${stack.url}/upload/${t.id}?`)).toBe(true);
      const res = await post(t.result.form.url, build(name, content));
      expect([res.status, res.statusText]).toEqual([201, 'Created']);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const answered = expectEnvelope(res.text);
      expect(answered).toMatchObject({ id: t.id, operation: 'import/upload', status: 'finished' });
      expect(answered.result).toEqual({
        files: [{ filename: name, size: content.length, md5: md5(content) }],
      });

      const shown = await task(t.id);
      expect(shown.status).toBe('finished');
      expect(shown.result.files[0].filename).toBe(name);
      expect(shown.ended_at).not.toBeNull();
    });
  }

  it('refuses a second upload to the same task with 409 JSON and keeps the first file', async () => {
    const t = await uploadTask();
    expect((await post(t.result.form.url, nodeMultipart('first.pdf', PDF))).status).toBe(201);
    const again = await post(t.result.form.url, nodeMultipart('second.pdf', JPG));
    expectError(again, 409, 'CONFLICT', 'Conflict');
    expect((await task(t.id)).result.files).toEqual([
      { filename: 'first.pdf', size: PDF.length, md5: md5(PDF) },
    ]);
  });

  it('refuses bad and missing signatures with 403 JSON and leaves the task waiting', async () => {
    const t = await uploadTask();
    const url = new URL(t.result.form.url);
    const signature = url.searchParams.get('signature')!;
    const other = await uploadTask();
    for (const bad of [
      `${url.origin}${url.pathname}`,
      `${url.origin}${url.pathname}?expires=${url.searchParams.get('expires')}&signature=${signature.replace(/^./, (c) => (c === '0' ? '1' : '0'))}`,
      `${url.origin}${url.pathname}?expires=1&signature=${signature}`,
      `${url.origin}/upload/${other.id}${url.search}`,
    ]) {
      const res = await post(bad, nodeMultipart('x.pdf', PDF), { authorization: `Bearer ${key}` });
      expectError(res, 403, 'INVALID_SIGNATURE', 'Forbidden');
    }
    expect((await task(t.id)).status).toBe('waiting');
    expect((await task(other.id)).status).toBe('waiting');
  });

  it('answers 400 JSON to an upload without a file part; the task waits and takes a retry', async () => {
    const t = await uploadTask();
    const b = 'only-fields-boundary';
    const noFile = {
      body: Buffer.from(
        `--${b}\r\nContent-Disposition: form-data; name="acl"\r\n\r\nprivate\r\n--${b}--\r\n`,
      ),
      contentType: `multipart/form-data; boundary=${b}`,
    };
    expectError(await post(t.result.form.url, noFile), 400, 'UPLOAD_FAILED', 'Bad Request');
    expect((await task(t.id)).status).toBe('waiting');
    expectError(
      await post(t.result.form.url, { body: Buffer.from('plain'), contentType: 'text/plain' }),
      400,
      'UPLOAD_FAILED',
      'Bad Request',
    );
    expect((await task(t.id)).status).toBe('waiting');

    const ok = await post(t.result.form.url, nodeMultipart(PDF_NAME, PDF));
    expect(ok.status).toBe(201);
    expect((await task(t.id)).result.files[0]).toEqual({
      filename: PDF_NAME,
      size: PDF.length,
      md5: md5(PDF),
    });
  });
});

describe('downloads', () => {
  let pdf: { filename: string; size: number; url: string };

  beforeAll(async () => {
    const t = await uploadTask();
    expect((await post(t.result.form.url, nodeMultipart(PDF_NAME, PDF))).status).toBe(201);
    pdf = await exportOf(t.id);
  });

  it('serves the same bytes with type, length, disposition and ranges announced', async () => {
    expect(pdf.filename).toBe(PDF_NAME);
    expect(pdf.size).toBe(PDF.length);
    expect(pdf.url.startsWith(`${stack.url}/download/`)).toBe(true);
    const res = await fetch(pdf.url);
    expect([res.status, res.statusText]).toEqual([200, 'OK']);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(sha256(bytes)).toBe(sha256(PDF));
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-length')).toBe(String(PDF.length));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="kids' stories & tales [v2] 100%.pdf"; filename*=UTF-8''kids%27%20stories%20%26%20tales%20%5Bv2%5D%20100%25.pdf`,
    );
    expect(res.headers.get('etag')).toBe(`"${md5(PDF)}"`);
  });

  it('answers byte ranges with 206 and an unsatisfiable one with 416 JSON', async () => {
    const first = await fetch(pdf.url, { headers: { range: 'bytes=0-99' } });
    expect([first.status, first.statusText]).toEqual([206, 'Partial Content']);
    expect(first.headers.get('content-range')).toBe(`bytes 0-99/${PDF.length}`);
    expect(first.headers.get('content-length')).toBe('100');
    expect(Buffer.from(await first.arrayBuffer()).equals(PDF.subarray(0, 100))).toBe(true);

    const suffix = await fetch(pdf.url, { headers: { range: 'bytes=-10' } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get('content-range')).toBe(
      `bytes ${PDF.length - 10}-${PDF.length - 1}/${PDF.length}`,
    );
    expect(Buffer.from(await suffix.arrayBuffer()).equals(PDF.subarray(PDF.length - 10))).toBe(
      true,
    );

    const open = await fetch(pdf.url, { headers: { range: `bytes=${PDF.length - 5}-` } });
    expect(open.status).toBe(206);
    expect(Buffer.from(await open.arrayBuffer()).equals(PDF.subarray(PDF.length - 5))).toBe(true);

    const beyond = await fetch(pdf.url, { headers: { range: `bytes=${PDF.length}-` } });
    const text = await beyond.text();
    expectError(
      { status: beyond.status, statusText: beyond.statusText, headers: beyond.headers, text },
      416,
      'BAD_REQUEST',
      'Range Not Satisfiable',
    );
    expect(beyond.headers.get('content-range')).toBe(`bytes */${PDF.length}`);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const res = await fetch(pdf.url, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(PDF.length));
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; /);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('serves inline: true exports with Content-Disposition: inline', async () => {
    const t = await uploadTask();
    expect((await post(t.result.form.url, pythonMultipart(JPG_NAME, JPG))).status).toBe(201);
    const file = await exportOf(t.id, { inline: true });
    const res = await fetch(file.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('content-disposition')).toBe(
      `inline; filename="Katze _ progressive (1).jpg"; filename*=UTF-8''Katze%20%E7%8C%AB%20progressive%20%281%29.jpg`,
    );
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(JPG));
  });

  it('runs import/upload -> export/url in one job without LibreOffice', async () => {
    const created = await call(stack, key, 'POST', '/v2/jobs', {
      body: {
        tag: 'files',
        tasks: {
          'import-it': { operation: 'import/upload' },
          'export-it': { operation: 'export/url', input: 'import-it' },
        },
      },
    });
    const job = created.json.data;
    const upload = job.tasks.find((t: any) => t.name === 'import-it');
    expect((await post(upload.result.form.url, nodeMultipart(JPG_NAME, JPG))).status).toBe(201);
    const done = await call(stack, key, 'GET', `/v2/jobs/${job.id}`, { base: stack.syncUrl });
    expect(done.json.data.status).toBe('finished');
    const exported = done.json.data.tasks.find((t: any) => t.name === 'export-it');
    expect(exported.result.files.map((f: any) => [f.filename, f.size])).toEqual([
      [JPG_NAME, JPG.length],
    ]);
    const res = await fetch(exported.result.files[0].url);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(JPG));
  });
});
