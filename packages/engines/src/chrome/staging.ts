// Puts an uploaded page and the files it references into one directory, the only place the
// browser may read files from: an HTML input with the other files of its task, or a ZIP archive.
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import yauzl from 'yauzl';

import { AppError } from '@convertd/errors';

import type { EngineInput } from '../engine';

export interface ZipLimits {
  maxEntries: number;
  /** Sum of the uncompressed sizes of the extracted files. */
  maxBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 10_000, maxBytes: 256 * 1024 * 1024 };

const MAX_NAME_BYTES = 255;
const HTML = /\.html?$/i;
const INDEX = /^index\.html?$/i;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * Copies `page` and the other files of its task into `dir` under their users' names and returns
 * the page's path. A sibling whose name cannot be a plain file name is left out.
 */
export async function stageHtml(
  page: EngineInput,
  siblings: readonly EngineInput[],
  dir: string,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const taken = new Set<string>();
  const pageName = safeFileName(page.filename) ?? `index.${page.format || 'html'}`;
  taken.add(pageName);
  await copyFile(page.path, join(dir, pageName));
  for (const sibling of siblings) {
    const name = safeFileName(sibling.filename);
    if (sibling.path === page.path || name === undefined || taken.has(name)) {
      continue;
    }

    taken.add(name);
    await copyFile(sibling.path, join(dir, name));
  }

  return join(dir, pageName);
}

/**
 * Extracts a ZIP archive into `dir` and returns the page to render: the shallowest index.html,
 * else the shallowest HTML file, in archive order. Paths that would leave `dir`, links and
 * archives past `limits` are refused before anything is written for them.
 */
export async function stageZip(
  archive: EngineInput,
  dir: string,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
  signal?: AbortSignal,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(archive.path, { autoClose: false, strictFileNames: false });
  } catch (err) {
    throw corrupt('The file is not a readable ZIP archive.', err);
  }

  const pages: { path: string; depth: number; index: boolean }[] = [];
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw tooBig(`The ZIP archive has more than ${limits.maxEntries} entries.`);
    }

    let budget = limits.maxBytes;
    for await (const entry of zip.eachEntry()) {
      signal?.throwIfAborted();
      const target = inside(dir, entry.fileName);
      if (entry.fileName.endsWith('/')) {
        await mkdir(target, { recursive: true });
        continue;
      }

      if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
        continue;
      }

      if (entry.isEncrypted()) {
        throw new AppError('PASSWORD_REQUIRED', {
          message: 'The ZIP archive is encrypted; convertd cannot open encrypted archives.',
        });
      }

      budget -= entry.uncompressedSize;
      if (budget < 0) {
        throw tooBig(`The ZIP archive unpacks to more than ${limits.maxBytes} bytes.`);
      }

      await mkdir(dirname(target), { recursive: true });
      await extractEntry(zip, entry, target, entry.uncompressedSize);
      const parts = entry.fileName.split('/');
      const base = parts[parts.length - 1] ?? '';
      if (HTML.test(base)) {
        pages.push({ path: target, depth: parts.length, index: INDEX.test(base) });
      }
    }
  } catch (err) {
    if (err instanceof AppError || signal?.aborted === true) {
      throw err;
    }

    if (/absolute path|invalid relative path/.test(String(err))) {
      throw outside();
    }

    throw corrupt('The ZIP archive is damaged or has entries that cannot be extracted.', err);
  } finally {
    zip.close();
  }

  const wanted = pages.some((p) => p.index) ? pages.filter((p) => p.index) : pages;
  const best = wanted.reduce<(typeof pages)[number] | undefined>(
    (found, p) => (found === undefined || p.depth < found.depth ? p : found),
    undefined,
  );
  if (best === undefined) {
    throw new AppError('INVALID_DATA', {
      message: 'The ZIP archive contains no HTML page (.html or .htm).',
    });
  }

  return best.path;
}

/** A base name that is safe as one path segment, or undefined. */
export function safeFileName(filename: string): string | undefined {
  const base = (filename.split(/[/\\]/).pop() ?? '').replace(CONTROL_CHARS, '').trim();
  if (base === '' || base === '.' || base === '..' || Buffer.byteLength(base) > MAX_NAME_BYTES) {
    return undefined;
  }

  return base;
}

/** yauzl already refuses absolute and `..` names; this is the check that does not trust it. */
function inside(dir: string, name: string): string {
  const target = resolve(dir, name);
  const rel = relative(dir, target);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw outside();
  }

  return target;
}

function outside(): AppError {
  return new AppError('INVALID_DATA', {
    message: 'The ZIP archive has an entry whose path leads outside the archive.',
    details: { reason: 'zip-slip' },
  });
}

// The size in the header is checked by yauzl's validateEntrySizes as well; counting here means a
// lying header cannot make us write more than we accounted for.
async function extractEntry(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  target: string,
  allowed: number,
): Promise<void> {
  const stream = await zip.openReadStreamPromise(entry);
  let written = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      written += chunk.length;
      callback(
        written > allowed ? tooBig('A ZIP entry is larger than its header says.') : null,
        chunk,
      );
    },
  });
  await pipeline(stream, cap, createWriteStream(target, { flags: 'wx' }));
}

function corrupt(message: string, cause: unknown): AppError {
  return new AppError('INPUT_CORRUPT', { message, cause });
}

function tooBig(message: string): AppError {
  return new AppError('INVALID_DATA', { message, details: { reason: 'archive limits' } });
}
