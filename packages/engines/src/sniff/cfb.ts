// A minimal reader of Compound File Binary containers (MS-CFB), the wrapper of .doc/.xls/.ppt
// files and of password-encrypted OOXML files. It reads only what the pre-flight checks need.
import type { FileHandle } from 'node:fs/promises';

import { readAt } from './read-at';

export const CFB_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

const END_OF_CHAIN = 0xfffffffe;
const MAX_SECTOR = 0xfffffffa;
const HEADER_DIFAT_SLOTS = 109;
const DIR_ENTRY_BYTES = 128;
const NO_STREAM = 0xffffffff;
/** Caps how much of the directory is read; real files have a few hundred entries at most. */
const MAX_DIR_SECTORS = 1024;

interface DirEntry {
  name: string;
  type: number;
  left: number;
  right: number;
  child: number;
  start: number;
  size: number;
}

/** Thrown when the container structure is inconsistent. */
export class CfbFormatError extends Error {}

/** An opened compound file: root-level stream names and the first bytes of a root-level stream. */
export class CfbFile {
  private constructor(
    private readonly handle: FileHandle,
    private readonly sectorSize: number,
    private readonly fat: Uint32Array,
    private readonly miniFat: Uint32Array,
    private readonly miniCutoff: number,
    private readonly entries: DirEntry[],
  ) {}

  static async open(handle: FileHandle, fileSize: number): Promise<CfbFile> {
    const header = await readAt(handle, 0, 512);
    if (header.length < 512 || !header.subarray(0, 8).equals(CFB_MAGIC)) {
      throw new CfbFormatError('not a compound file');
    }

    const shift = header.readUInt16LE(0x1e);
    if (shift !== 9 && shift !== 12) {
      throw new CfbFormatError('bad sector size');
    }

    const sectorSize = 1 << shift;
    const maxSectors = Math.ceil(fileSize / sectorSize);
    const fatSectorIds: number[] = [];
    const fatCount = header.readUInt32LE(0x2c);
    for (let i = 0; i < Math.min(fatCount, HEADER_DIFAT_SLOTS); i += 1) {
      fatSectorIds.push(header.readUInt32LE(0x4c + i * 4));
    }

    // FAT sectors beyond the first 109 are listed in a chain of DIFAT sectors.
    let difat = header.readUInt32LE(0x44);
    for (let hops = 0; fatSectorIds.length < fatCount && difat <= MAX_SECTOR; hops += 1) {
      if (hops > maxSectors) {
        throw new CfbFormatError('DIFAT loop');
      }

      const sector = await readAt(handle, (difat + 1) * sectorSize, sectorSize);
      const slots = sectorSize / 4 - 1;
      for (let i = 0; i < slots && fatSectorIds.length < fatCount; i += 1) {
        fatSectorIds.push(sector.readUInt32LE(i * 4));
      }

      difat = sector.readUInt32LE(slots * 4);
    }

    const fat = toUint32(await readSectors(handle, sectorSize, fatSectorIds));
    const dirChain = followChain(
      fat,
      header.readUInt32LE(0x30),
      Math.min(maxSectors, MAX_DIR_SECTORS),
    );
    const dir = await readSectors(handle, sectorSize, dirChain);
    const entries: DirEntry[] = [];
    for (let off = 0; off + DIR_ENTRY_BYTES <= dir.length; off += DIR_ENTRY_BYTES) {
      entries.push(parseEntry(dir.subarray(off, off + DIR_ENTRY_BYTES)));
    }

    const miniChain = followChain(fat, header.readUInt32LE(0x3c), maxSectors);
    const miniFat = toUint32(await readSectors(handle, sectorSize, miniChain));

    return new CfbFile(handle, sectorSize, fat, miniFat, header.readUInt32LE(0x38), entries);
  }

  /** Names of the streams and storages directly under the root. */
  rootNames(): string[] {
    return this.rootChildren().map((e) => e.name);
  }

  /** The first `maxBytes` of a root-level stream, or undefined when there is no such stream. */
  async readRootStream(name: string, maxBytes: number): Promise<Buffer | undefined> {
    const entry = this.rootChildren().find((e) => e.type === 2 && e.name === name);
    if (entry === undefined) {
      return undefined;
    }

    const want = Math.min(entry.size, maxBytes);
    if (entry.size >= this.miniCutoff) {
      const chain = followChain(this.fat, entry.start, Math.ceil(want / this.sectorSize));

      return (await readSectors(this.handle, this.sectorSize, chain)).subarray(0, want);
    }

    // Small streams live in 64-byte mini sectors inside the root entry's own stream.
    const rootChain = followChain(this.fat, this.entries[0]?.start ?? END_OF_CHAIN, Infinity);
    const miniChain = followChain(this.miniFat, entry.start, Math.ceil(want / 64));
    const parts: Buffer[] = [];
    for (const mini of miniChain) {
      const pos = mini * 64;
      const sector = rootChain[Math.floor(pos / this.sectorSize)];
      if (sector === undefined) {
        throw new CfbFormatError('mini sector outside the mini stream');
      }

      parts.push(
        await readAt(this.handle, (sector + 1) * this.sectorSize + (pos % this.sectorSize), 64),
      );
    }

    return Buffer.concat(parts).subarray(0, want);
  }

  private rootChildren(): DirEntry[] {
    const root = this.entries[0];
    if (root?.type !== 5) {
      throw new CfbFormatError('no root entry');
    }

    // Siblings form a red-black tree hanging off the parent's child pointer.
    const children: DirEntry[] = [];
    const seen = new Set<number>();
    const stack = [root.child];
    while (stack.length > 0) {
      const id = stack.pop() ?? NO_STREAM;
      const entry = this.entries[id];
      if (entry === undefined || seen.has(id)) {
        continue;
      }

      seen.add(id);
      children.push(entry);
      stack.push(entry.left, entry.right);
    }

    return children;
  }
}

function parseEntry(raw: Buffer): DirEntry {
  const nameBytes = Math.min(Math.max(raw.readUInt16LE(0x40) - 2, 0), 62);

  return {
    name: raw.subarray(0, nameBytes).toString('utf16le'),
    type: raw.readUInt8(0x42),
    left: raw.readUInt32LE(0x44),
    right: raw.readUInt32LE(0x48),
    child: raw.readUInt32LE(0x4c),
    start: raw.readUInt32LE(0x74),
    // The high half is only meaningful in version 4 files; 4 GB streams are not our concern.
    size: raw.readUInt32LE(0x78),
  };
}

function followChain(table: Uint32Array, start: number, maxLength: number): number[] {
  const chain: number[] = [];
  for (let id = start; id <= MAX_SECTOR && chain.length < maxLength;) {
    if (chain.length > table.length) {
      throw new CfbFormatError('sector chain loop');
    }

    chain.push(id);
    const next = table[id];
    if (next === undefined) {
      throw new CfbFormatError('sector outside the allocation table');
    }

    id = next;
  }

  return chain;
}

async function readSectors(handle: FileHandle, sectorSize: number, ids: number[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const id of ids) {
    const part = await readAt(handle, (id + 1) * sectorSize, sectorSize);
    if (part.length < sectorSize) {
      throw new CfbFormatError('sector past the end of the file');
    }

    parts.push(part);
  }

  return Buffer.concat(parts);
}

function toUint32(buf: Buffer): Uint32Array {
  const out = new Uint32Array(Math.floor(buf.length / 4));
  for (let i = 0; i < out.length; i += 1) {
    out[i] = buf.readUInt32LE(i * 4);
  }

  return out;
}
