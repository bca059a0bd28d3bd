// Just enough of the ZIP format to tell a truncated archive and to read one small member.
import type { FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

import { readAt } from './read-at';

export const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_MIN_BYTES = 22;
/** The end record sits in the last 22 bytes plus a comment of at most 64 KB. */
const EOCD_SEARCH_BYTES = EOCD_MIN_BYTES + 0xffff;
const MAX_CENTRAL_DIR_BYTES = 8 * 1024 * 1024;

/** Thrown when the archive structure is missing or inconsistent (a truncated upload, typically). */
export class ZipFormatError extends Error {}

/** Member names and their locations, read from the central directory. */
export class ZipIndex {
  private constructor(
    private readonly handle: FileHandle,
    private readonly members: Map<string, { method: number; size: number; offset: number }>,
  ) {}

  static async open(handle: FileHandle, fileSize: number): Promise<ZipIndex> {
    const tailStart = Math.max(0, fileSize - EOCD_SEARCH_BYTES);
    const tail = await readAt(handle, tailStart, fileSize - tailStart);
    let eocd = -1;
    for (let i = tail.length - EOCD_MIN_BYTES; i >= 0; i -= 1) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
        eocd = i;
        break;
      }
    }

    if (eocd < 0) {
      throw new ZipFormatError('no end of central directory');
    }

    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const members = new Map<string, { method: number; size: number; offset: number }>();
    // ZIP64 archives mark the real values as 0xFFFFFFFF; office files never need ZIP64.
    if (cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      return new ZipIndex(handle, members);
    }

    if (cdOffset + cdSize > tailStart + eocd || cdSize > MAX_CENTRAL_DIR_BYTES) {
      throw new ZipFormatError('central directory out of bounds');
    }

    const cd = await readAt(handle, cdOffset, cdSize);
    for (let off = 0; off + 46 <= cd.length;) {
      if (cd.readUInt32LE(off) !== CENTRAL_SIGNATURE) {
        throw new ZipFormatError('bad central directory entry');
      }

      const nameLength = cd.readUInt16LE(off + 28);
      const name = cd.subarray(off + 46, off + 46 + nameLength).toString('utf8');
      members.set(name, {
        method: cd.readUInt16LE(off + 10),
        size: cd.readUInt32LE(off + 20),
        offset: cd.readUInt32LE(off + 42),
      });
      off += 46 + nameLength + cd.readUInt16LE(off + 30) + cd.readUInt16LE(off + 32);
    }

    return new ZipIndex(handle, members);
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  /** A member's content, or undefined when it is absent, too big or stored in an unknown way. */
  async read(name: string, maxBytes: number): Promise<Buffer | undefined> {
    const member = this.members.get(name);
    if (member === undefined || member.size > maxBytes) {
      return undefined;
    }

    const local = await readAt(this.handle, member.offset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_SIGNATURE) {
      throw new ZipFormatError('bad local header');
    }

    const dataStart = member.offset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const data = await readAt(this.handle, dataStart, member.size);
    if (member.method === 0) {
      return data;
    }

    if (member.method === 8) {
      return inflateRawSync(data, { maxOutputLength: maxBytes * 20 });
    }

    return undefined;
  }
}
