import type { FileHandle } from 'node:fs/promises';

/** Reads up to `length` bytes at `position`; shorter at the end of the file. */
export async function readAt(
  handle: FileHandle,
  position: number,
  length: number,
): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, position);

  return buf.subarray(0, bytesRead);
}
