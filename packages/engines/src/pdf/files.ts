// File moves between an engine's scratch dir and its output dir.
import { copyFile, rename, unlink } from 'node:fs/promises';

/** Renames `from` to `to`, copying when they sit on different file systems. */
export async function moveFile(from: string, to: string): Promise<string> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') {
      throw err;
    }

    await copyFile(from, to);
    await unlink(from);
  }

  return to;
}
