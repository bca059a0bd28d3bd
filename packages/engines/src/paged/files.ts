// Files of page renderers: staging inputs, finding numbered page files, moving outputs.
import { copyFile, link, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { AppError } from '@convertd/errors';

export async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    // Another file system, or one without hard links.
    await copyFile(from, to);
  }
}

/** Moves `from` into `dir` as `name`; returns the new path. */
export async function moveInto(from: string, dir: string, name: string): Promise<string> {
  const to = join(dir, name);
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

/**
 * The files `<stem>-<n>.<ext>` in `dir` by page number. Programs pad the number to the width of
 * the page count (`page-07.png`), so names are read as numbers, never sorted as text.
 */
export async function pageFiles(
  dir: string,
  stem: string,
  ext: string,
): Promise<Map<number, string>> {
  const pattern = new RegExp(`^${stem}-(\\d+)\\.${ext}$`);
  const found = new Map<number, string>();
  for (const name of await readdir(dir)) {
    const match = pattern.exec(name);
    if (match?.[1] !== undefined) {
      found.set(Number(match[1]), join(dir, name));
    }
  }

  return found;
}

/** Moves the page files of `pages` into `outputDir` in page order, each named for its page. */
export async function collectPages(
  found: ReadonlyMap<number, string>,
  pages: readonly number[],
  outputDir: string,
  format: string,
  engine: string,
): Promise<string[]> {
  const files: string[] = [];
  for (const page of pages) {
    const file = found.get(page);
    if (file === undefined) {
      throw new AppError('ENGINE_FAILED', {
        details: { engine, reason: 'page not written', page, written: found.size },
      });
    }

    files.push(await moveInto(file, outputDir, `page-${page}.${format}`));
  }

  return files;
}
