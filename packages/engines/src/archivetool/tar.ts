// tar, streamed (POSIX ustar, with pax headers for names that do not fit ustar's fields).
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { pack } from 'tar-stream';

import type { ArchiveEntry } from './entries';

const FILE_MODE = 0o644;

/**
 * The entries as one tar stream, one after the other. Every entry needs its size (the header
 * comes before the bytes); tar-stream fails the stream when the bytes do not match it.
 */
export function tarStream(entries: readonly ArchiveEntry[]): Readable {
  const tar = pack();
  let current: Readable | undefined;
  tar.once('close', () => current?.destroy());

  const write = async (): Promise<void> => {
    for (const entry of entries) {
      if (entry.size === undefined) {
        throw new Error(`tar entry ${entry.name} has no size`);
      }
      current = await entry.open();
      const sink = tar.entry({
        name: entry.name,
        type: 'file',
        size: entry.size,
        mode: FILE_MODE,
        mtime: entry.mtime ?? new Date(),
      });
      await pipeline(current, sink);
    }
    tar.finalize();
  };
  write().catch((err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))));

  return tar;
}
