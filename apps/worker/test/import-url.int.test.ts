// import/url against a local HTTP server (the harness allows private URLs): exact bytes, file
// names from the URL, Content-Disposition or the task, custom headers; import/base64 and
// import/raw bytes checked through export/url downloads.
import { createHash, randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startStack, type Stack } from '../../../test/harness';
import {
  byName,
  createJob,
  exportedFiles,
  expectNoTaskDirs,
  startServer,
  waitJob,
  type Json,
  type TestServer,
} from './support';

let stack: Stack;
let key: string;
let server: TestServer;
const big = randomBytes(300_000);

beforeAll(async () => {
  stack = await startStack();
  ({ key } = await stack.createUser());
  server = await startServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    switch (url.pathname) {
      case '/files/Quarterly%20report.bin':
        res.setHeader('content-type', 'application/octet-stream');
        res.end(big);
        return;
      case '/download':
        res.setHeader('content-disposition', 'attachment; filename="from-header.csv"');
        res.end('a,b\n1,2\n');
        return;
      case '/download-utf8':
        res.setHeader(
          'content-disposition',
          `attachment; filename="fallback.txt"; filename*=UTF-8''K%C3%A4tze%20%E2%9C%93.txt`,
        );
        res.end('miau');
        return;
      case '/echo':
        res.end('echo');
        return;
      case '/moved':
        res.statusCode = 302;
        res.setHeader('location', '/files/Quarterly%20report.bin');
        res.end();
        return;
      case '/broken':
        res.statusCode = 500;
        res.end('boom');
        return;
      default:
        res.statusCode = 404;
        res.end();
    }
  });
});

afterAll(async () => {
  await server?.close();
  await stack?.close();
});

/** One import task exported through export/url; returns the import task and the exported files. */
async function importAndExport(task: Json) {
  const created = await createJob(stack, key, {
    in: task,
    out: { operation: 'export/url', input: 'in' },
  });
  const job = await waitJob(stack, key, created.id);
  const imported = byName(job, 'in');
  const files = job.status === 'finished' ? await exportedFiles(byName(job, 'out')) : [];

  return { job, imported, files };
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('import/url', () => {
  it('imports the exact bytes, named after the last segment of the URL path', async () => {
    const { job, imported, files } = await importAndExport({
      operation: 'import/url',
      url: `${server.origin}/files/Quarterly%20report.bin`,
    });
    expect(job.status).toBe('finished');
    expect(imported.result.files).toEqual([
      { filename: 'Quarterly report.bin', size: big.length, md5: md5(big) },
    ]);
    expect(files).toHaveLength(1);
    expect(files[0]!.filename).toBe('Quarterly report.bin');
    expect(files[0]!.bytes.equals(big)).toBe(true);
  });

  it('takes the file name from Content-Disposition, preferring filename*', async () => {
    const plain = await importAndExport({
      operation: 'import/url',
      url: `${server.origin}/download?id=7`,
    });
    expect(plain.files.map((f) => [f.filename, f.bytes.toString()])).toEqual([
      ['from-header.csv', 'a,b\n1,2\n'],
    ]);

    const utf8 = await importAndExport({
      operation: 'import/url',
      url: `${server.origin}/download-utf8`,
    });
    expect(utf8.files.map((f) => [f.filename, f.bytes.toString()])).toEqual([
      ['Kätze ✓.txt', 'miau'],
    ]);
  });

  it('uses the task filename over any name the server gives', async () => {
    const { imported, files } = await importAndExport({
      operation: 'import/url',
      url: `${server.origin}/download`,
      filename: 'mine.csv',
    });
    expect(imported.result.files[0].filename).toBe('mine.csv');
    expect(files.map((f) => f.filename)).toEqual(['mine.csv']);
  });

  it('sends the custom headers to the server', async () => {
    const before = server.requests.length;
    const { job } = await importAndExport({
      operation: 'import/url',
      url: `${server.origin}/echo?token=1`,
      headers: { 'X-Api-Key': 's3cr3t', Authorization: 'Bearer abc.def', Cookie: 'session=42' },
    });
    expect(job.status).toBe('finished');
    const seen = server.requests.slice(before);
    expect(seen.map((r) => [r.method, r.url])).toEqual([['GET', '/echo?token=1']]);
    expect(seen[0]!.headers).toMatchObject({
      'x-api-key': 's3cr3t',
      authorization: 'Bearer abc.def',
      cookie: 'session=42',
    });
  });

  it('follows a redirect and names the file after the final URL', async () => {
    const { files } = await importAndExport({
      operation: 'import/url',
      url: `${server.origin}/moved`,
    });
    expect(files.map((f) => f.filename)).toEqual(['Quarterly report.bin']);
    expect(files[0]!.bytes.equals(big)).toBe(true);
  });

  it('fails with IMPORT_FAILED on an HTTP error status', async () => {
    const { job, imported } = await importAndExport({
      operation: 'import/url',
      url: `${server.origin}/broken`,
    });
    expect(job.status).toBe('error');
    expect(imported).toMatchObject({
      status: 'error',
      code: 'IMPORT_FAILED',
      message: 'The URL answered HTTP 500 Internal Server Error.',
      result: null,
    });
    expect(byName(job, 'out')).toMatchObject({ status: 'error', code: 'INPUT_TASK_FAILED' });
  });
});

describe('import/base64 and import/raw', () => {
  it('import/base64 stores the exact decoded bytes', async () => {
    const bytes = Buffer.concat([
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      randomBytes(65_536),
    ]);
    const { imported, files } = await importAndExport({
      operation: 'import/base64',
      file: bytes.toString('base64'),
      filename: 'blob.bin',
    });
    expect(imported.result.files).toEqual([
      { filename: 'blob.bin', size: bytes.length, md5: md5(bytes) },
    ]);
    expect(files).toHaveLength(1);
    expect(files[0]!.bytes.equals(bytes)).toBe(true);
  });

  it('import/raw stores the string as UTF-8, byte for byte', async () => {
    const text = 'Zeile 1\r\nLigne 2 — é ✓ 🐈\n\ttab\n';
    const { imported, files } = await importAndExport({
      operation: 'import/raw',
      file: text,
      filename: 'notes — ✓.txt',
    });
    const bytes = Buffer.from(text, 'utf8');
    expect(imported.result.files).toEqual([
      { filename: 'notes — ✓.txt', size: bytes.length, md5: md5(bytes) },
    ]);
    expect(files.map((f) => f.filename)).toEqual(['notes — ✓.txt']);
    expect(files[0]!.bytes.equals(bytes)).toBe(true);
  });

  it('leaves no task directory in the work dir', async () => {
    await expectNoTaskDirs(stack.env.WORK_DIR!);
  });
});
