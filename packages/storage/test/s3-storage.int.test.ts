// The S3 driver against a real S3-compatible server (s3rver): what gateways and workers do with
// files, and the failures they must see as STORAGE_ERROR rather than hang or leak.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  S3_ACCESS_KEY_ID,
  S3_SECRET_ACCESS_KEY,
  startS3Server,
  type S3Server,
} from '../../../test/s3-server';
import { PART_SIZE, S3Storage } from '../src/index';

let server: S3Server;
let storage: S3Storage;

beforeAll(async () => {
  server = await startS3Server();
  storage = new S3Storage({
    bucket: 'convertd-files',
    region: 'us-east-1',
    endpoint: server.endpoint,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    forcePathStyle: true,
  });
  // The bucket does not exist yet: init creates it.
  await storage.init();
});

afterAll(async () => {
  storage?.close();
  await server?.close();
});

/** A stream of `size` bytes that differ from part to part, in small chunks. */
function bytes(size: number): { stream: Readable; md5: string } {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4096) {
    data.writeUInt32LE(i, i);
  }
  const chunks: Buffer[] = [];
  for (let i = 0; i < size; i += 64 * 1024) {
    chunks.push(data.subarray(i, i + 64 * 1024));
  }
  return { stream: Readable.from(chunks), md5: createHash('md5').update(data).digest('hex') };
}

describe('S3Storage', () => {
  it('creates its bucket, stores a stream and reads it back whole and by range', async () => {
    expect(await storage.ping()).toBe(true);
    const stored = await storage.put('tasks/a/one', Readable.from([Buffer.from('hello world')]));
    expect(stored).toEqual({
      size: 11,
      md5: createHash('md5').update('hello world').digest('hex'),
    });
    expect(await text(await storage.read('tasks/a/one'))).toBe('hello world');
    expect(await text(await storage.read('tasks/a/one', { start: 6, end: 10 }))).toBe('world');
    expect(await storage.size('tasks/a/one')).toBe(11);
    expect(await storage.size('tasks/a/none')).toBeNull();
  });

  it('uploads a file larger than the part size in parts, with the right size and md5', async () => {
    const size = PART_SIZE * 2 + 12345;
    const { stream, md5 } = bytes(size);
    const stored = await storage.put('tasks/b/big', stream);
    expect(stored).toEqual({ size, md5 });
    expect(await storage.size('tasks/b/big')).toBe(size);
    const tail = Buffer.concat(
      await (await storage.read('tasks/b/big', { start: size - 8, end: size - 1 })).toArray(),
    );
    expect(tail.length).toBe(8);
  });

  it('refuses a stream past maxBytes with PAYLOAD_TOO_LARGE and leaves no object', async () => {
    const { stream } = bytes(PART_SIZE + 1000);
    await expect(
      storage.put('tasks/c/too-big', stream, { maxBytes: 100_000 }),
    ).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await storage.size('tasks/c/too-big')).toBeNull();
  });

  it('passes on the error of a source that fails mid-way and leaves no object', async () => {
    const gone = new Error('client went away');
    async function* source() {
      yield Buffer.alloc(PART_SIZE + 10);
      throw gone;
    }
    await expect(storage.put('tasks/c/half', Readable.from(source()))).rejects.toBe(gone);
    expect(await storage.size('tasks/c/half')).toBeNull();
  });

  it('copies, downloads to a local file for engines, and deletes', async () => {
    await storage.put('tasks/d/src', Readable.from([Buffer.from('copy me')]));
    await storage.copy('tasks/d/src', 'tasks/e/dst');
    expect(await text(await storage.read('tasks/e/dst'))).toBe('copy me');

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'convertd-s3-dl-'));
    try {
      await storage.download('tasks/e/dst', path.join(dir, 'in-0.txt'));
      expect(await fs.readFile(path.join(dir, 'in-0.txt'), 'utf8')).toBe('copy me');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }

    await storage.delete(['tasks/d/src', 'tasks/e/dst', 'tasks/never/was']);
    expect(await storage.size('tasks/d/src')).toBeNull();
    expect(await storage.size('tasks/e/dst')).toBeNull();
  });

  it('says STORAGE_ERROR for a missing file and an invalid key', async () => {
    await expect(storage.read('tasks/x/missing')).rejects.toMatchObject({
      code: 'STORAGE_ERROR',
      message: 'A stored file is missing.',
    });
    await expect(storage.copy('tasks/x/missing', 'tasks/x/y')).rejects.toMatchObject({
      code: 'STORAGE_ERROR',
    });
    await expect(storage.read('../etc/passwd')).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
  });

  it('presigns a download URL that serves the object under the given name', async () => {
    await storage.put('tasks/f/file', Readable.from([Buffer.from('%PDF-1.4 fake')]));
    const url = await storage.downloadUrl('tasks/f/file', {
      contentDisposition: 'attachment; filename="report.pdf"',
      contentType: 'application/pdf',
      expiresInSec: 60,
    });
    expect(url.startsWith(`${server.endpoint}/convertd-files/tasks/f/file?`)).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="report.pdf"');
    expect(await res.text()).toBe('%PDF-1.4 fake');
  });

  it('fails with STORAGE_ERROR, not a hang, when the server is gone', async () => {
    const dead = new S3Storage({
      bucket: 'convertd-files',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
      forcePathStyle: true,
    });
    try {
      expect(await dead.ping()).toBe(false);
      await expect(
        dead.put('tasks/g/file', Readable.from([Buffer.from('x')])),
      ).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    } finally {
      dead.close();
    }
  });
});
