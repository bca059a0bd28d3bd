// Helpers of the calibre tests: engine jobs, and looks into the books calibre writes that do not
// go through calibre: EPUB read as the ZIP and XML it is, MOBI text decompressed from its records.
import { open, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

import type { EngineJob } from '../src/index';
import { ZipIndex } from '../src/sniff/zip';
import { CORPUS, engineJob, inputOf, type JobSpec } from './support';
export const ALICE = join(CORPUS, 'ebook/alice.epub');
export const EPUB2 = join(CORPUS, 'ebook/epub2_picture.epub');
export const LADY_SUSAN = join(CORPUS, 'ebook/testbook.mobi');
export const NOTES_DOCX = join(CORPUS, 'office/notes.docx');

/** A convert job as the worker builds it, in fresh work and output dirs under `root`. */
export async function convertJob(
  root: string,
  input: string,
  outputFormat: string,
  options: Record<string, unknown> = {},
  extra: Partial<JobSpec> = {},
): Promise<EngineJob> {
  return engineJob(root, {
    operation: 'convert',
    inputs: [inputOf(input)],
    outputFormat,
    options,
    deadlineMs: 120_000,
    ...extra,
  });
}

export interface Epub {
  /** The name of the first member, which EPUB requires to be `mimetype`, stored. */
  firstMember: string;
  mimetype: string;
  containerXml: string;
  opf: string;
  /** The text of the spine's documents in reading order, tags removed, spaces collapsed. */
  text: string;
}

/** Reads an EPUB as a reading system would: container.xml, then the OPF, then the spine. */
export async function readEpub(file: string): Promise<Epub> {
  const handle = await open(file);
  try {
    const head = Buffer.alloc(30 + 8);
    await handle.read(head, 0, head.length, 0);
    const firstMember = head.subarray(30, 30 + head.readUInt16LE(26)).toString('latin1');
    const zip = await ZipIndex.open(handle, (await stat(file)).size);
    const member = async (name: string): Promise<string> => {
      const data = await zip.read(name, 64 * 1024 * 1024);
      if (data === undefined) {
        throw new Error(`${basename(file)} has no ${name}`);
      }

      return data.toString('utf8');
    };

    const containerXml = await member('META-INF/container.xml');
    const opfPath = /full-path="([^"]+)"/.exec(containerXml)?.[1] ?? '';
    const opf = await member(opfPath);
    const base = opfPath.includes('/') ? opfPath.slice(0, opfPath.lastIndexOf('/') + 1) : '';
    const hrefs = new Map<string, string>();
    for (const item of opf.matchAll(/<(?:opf:)?item\b[^>]*>/g)) {
      const id = /\bid="([^"]+)"/.exec(item[0])?.[1];
      const href = /\bhref="([^"]+)"/.exec(item[0])?.[1];
      if (id !== undefined && href !== undefined) {
        hrefs.set(id, decodeURIComponent(href));
      }
    }

    const parts: string[] = [];
    for (const ref of opf.matchAll(/<(?:opf:)?itemref\b[^>]*\bidref="([^"]+)"/g)) {
      const href = hrefs.get(ref[1] ?? '');
      if (href !== undefined) {
        parts.push(plainText(await member(base + href)));
      }
    }

    return {
      firstMember,
      mimetype: await member('mimetype'),
      containerXml,
      opf,
      text: parts.join(' '),
    };
  } finally {
    await handle.close();
  }
}

/** Every member of a ZIP by name, decompressed; names come from the central directory. */
export async function zipMembers(file: string): Promise<Map<string, Buffer>> {
  const data = await readFile(file);
  const eocd = data.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const names: string[] = [];
  for (let at = data.readUInt32LE(eocd + 16); data.readUInt32LE(at) === 0x02014b50;) {
    const nameLength = data.readUInt16LE(at + 28);
    names.push(data.subarray(at + 46, at + 46 + nameLength).toString('utf8'));
    at += 46 + nameLength + data.readUInt16LE(at + 30) + data.readUInt16LE(at + 32);
  }

  const handle = await open(file);
  try {
    const zip = await ZipIndex.open(handle, data.length);
    const members = new Map<string, Buffer>();
    for (const name of names) {
      members.set(name, (await zip.read(name, 64 * 1024 * 1024)) ?? Buffer.alloc(0));
    }

    return members;
  } finally {
    await handle.close();
  }
}

/** The book text of a MOBI (PalmDOC-compressed MOBI 6, as calibre writes by default). */
export async function mobiText(
  file: string,
): Promise<{ type: string; title: string; text: string }> {
  const data = await readFile(file);
  const type = data.subarray(60, 68).toString('latin1');
  const recordCount = data.readUInt16BE(76);
  const offsets = Array.from({ length: recordCount }, (_, i) => data.readUInt32BE(78 + i * 8));
  const record = (i: number) => data.subarray(offsets[i], offsets[i + 1] ?? data.length);
  const header = record(0);
  const compression = header.readUInt16BE(0);
  const textRecords = header.readUInt16BE(8);
  const mobiHeaderLength = header.readUInt32BE(20);
  const utf8 = header.readUInt32BE(28) === 65001;
  const title = header.subarray(
    header.readUInt32BE(84),
    header.readUInt32BE(84) + header.readUInt32BE(88),
  );
  const extraFlags = mobiHeaderLength >= 0xe4 ? header.readUInt16BE(16 + 0xe2) : 0;
  const chunks: Buffer[] = [];
  for (let i = 1; i <= textRecords; i += 1) {
    const raw = record(i);
    const body = raw.subarray(0, raw.length - trailingBytes(raw, extraFlags));
    chunks.push(compression === 2 ? palmDocInflate(body) : body);
  }

  const encoding = utf8 ? 'utf8' : 'latin1';

  return {
    type,
    title: title.toString(encoding),
    text: plainText(Buffer.concat(chunks).toString(encoding)),
  };
}

/** Bytes that MOBI appends to a text record (indexing data), to be cut before decompressing. */
function trailingBytes(record: Buffer, flags: number): number {
  let size = 0;
  for (let bits = flags >> 1; bits !== 0; bits >>= 1) {
    if ((bits & 1) !== 0) {
      // A size written backwards from the end, seven bits a byte, the first byte flagged.
      let value = 0;
      let shift = 0;
      let at = record.length - size;
      for (;;) {
        const byte = record[at - 1] ?? 0x80;
        value |= (byte & 0x7f) << shift;
        shift += 7;
        at -= 1;
        if ((byte & 0x80) !== 0 || shift >= 28 || at === 0) {
          break;
        }
      }
      size += value;
    }
  }
  if ((flags & 1) !== 0) {
    size += ((record[record.length - size - 1] ?? 0) & 0x3) + 1;
  }

  return size;
}

/** PalmDOC's LZ77 variant. */
function palmDocInflate(input: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < input.length;) {
    const c = input[i++] ?? 0;
    if (c >= 1 && c <= 8) {
      for (let n = 0; n < c; n += 1) {
        out.push(input[i++] ?? 0);
      }
    } else if (c < 0x80) {
      out.push(c);
    } else if (c >= 0xc0) {
      out.push(0x20, c ^ 0x80);
    } else {
      const pair = (c << 8) | (input[i++] ?? 0);
      const distance = (pair >> 3) & 0x7ff;
      for (let n = (pair & 7) + 3; n > 0; n -= 1) {
        out.push(out[out.length - distance] ?? 0);
      }
    }
  }

  return Buffer.from(out);
}

/** Markup to text: tags dropped, the usual entities decoded, whitespace collapsed. */
export function plainText(markup: string): string {
  return markup
    .replace(/<[^>]*>/g, ' ')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&nbsp;/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}
