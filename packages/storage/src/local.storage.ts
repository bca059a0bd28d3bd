import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { AppError } from '@convertd/errors';

import type { ReadRange, Storage, StoredObject } from './storage';

const KEY = /^[a-z0-9][a-z0-9/_-]*$/i;

/** Files under `<root>/objects`, written to a temp name and renamed, so readers never see halves. */
export class LocalStorage implements Storage {
  private readonly objects: string;
  private readonly tmp: string;

  constructor(root: string) {
    this.objects = path.join(root, 'objects');
    this.tmp = path.join(root, 'tmp');
  }

  async init(): Promise<void> {
    await fs.mkdir(this.objects, { recursive: true });
    await fs.mkdir(this.tmp, { recursive: true });
  }

  async put(
    key: string,
    body: Readable,
    options: { maxBytes?: number } = {},
  ): Promise<StoredObject> {
    const target = this.pathOf(key);
    const temp = path.join(this.tmp, randomUUID());
    const hash = createHash('md5');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (options.maxBytes !== undefined && size > options.maxBytes) {
          done(
            new AppError('PAYLOAD_TOO_LARGE', {
              message: `The file is larger than ${options.maxBytes} bytes.`,
            }),
          );
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });

    try {
      await pipeline(body, meter, createWriteStream(temp));
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }

    return { size, md5: hash.digest('hex') };
  }

  async putFile(key: string, file: string): Promise<StoredObject> {
    return this.put(key, createReadStream(file));
  }

  async read(key: string, range?: ReadRange): Promise<Readable> {
    const file = this.pathOf(key);
    await this.mustExist(key, file);

    return createReadStream(file, range ? { start: range.start, end: range.end } : {});
  }

  async download(key: string, to: string): Promise<void> {
    const file = this.pathOf(key);
    await this.mustExist(key, file);
    // A hard link costs nothing; a copy when the work dir is on another file system.
    try {
      await fs.link(file, to);
    } catch {
      await fs.copyFile(file, to);
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      return (await fs.stat(this.pathOf(key))).size;
    } catch {
      return null;
    }
  }

  async copy(from: string, to: string): Promise<void> {
    const source = this.pathOf(from);
    const target = this.pathOf(to);
    await this.mustExist(from, source);
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      await fs.link(source, target);
    } catch {
      await fs.copyFile(source, target);
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      const file = this.pathOf(key);
      await fs.rm(file, { force: true });
      dirs.add(path.dirname(file));
    }
    // Empty task directories go too; rmdir refuses non-empty ones, which is what we want.
    for (const dir of dirs) {
      await fs.rmdir(dir).catch(() => undefined);
    }
  }

  async ping(): Promise<boolean> {
    try {
      await fs.access(this.objects);
      return true;
    } catch {
      return false;
    }
  }

  private pathOf(key: string): string {
    if (!KEY.test(key) || key.includes('..')) {
      throw new AppError('STORAGE_ERROR', { message: 'Invalid storage key.', details: { key } });
    }

    return path.join(this.objects, key);
  }

  private async mustExist(key: string, file: string): Promise<void> {
    try {
      await fs.access(file);
    } catch (err) {
      throw new AppError('STORAGE_ERROR', {
        message: 'A stored file is missing.',
        details: { key },
        cause: err,
      });
    }
  }
}
