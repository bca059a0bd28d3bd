// ZIP, streamed: the archive operation and export/url's `archive_multiple_files` both use it.
import path from 'node:path';
import type { PassThrough, Readable } from 'node:stream';

import { ZipFile } from 'yazl';

import type { ArchiveEntry } from './entries';

/** Regular file, rw-r--r--, as unzip restores it. */
const FILE_MODE = 0o100644;
/** Formats that are compressed already: deflating them again costs time and saves nothing. */
const STORED = new Set(
  (
    'jpg jpeg png gif webp avif heic jxl mp3 m4a aac ogg opus flac mp4 m4v mov mkv webm avi ' +
    'zip gz tgz bz2 xz zst 7z rar docx xlsx pptx odt ods odp odg epub jar apk woff woff2'
  ).split(' '),
);

/**
 * The entries as one ZIP stream, each opened when its turn comes. yazl flags every name as
 * UTF-8 and writes ZIP64 records only when a size needs them. A failure to open or read an entry
 * destroys the stream with that error; destroying the stream closes the entry being read.
 */
export function zipStream(entries: readonly ArchiveEntry[]): Readable {
  const zip = new ZipFile();
  // yazl's outputStream is a PassThrough; its typings only say ReadableStream.
  const output = zip.outputStream as PassThrough;
  let current: Readable | undefined;
  zip.on('error', (err: Error) => output.destroy(err));
  output.once('close', () => current?.destroy());

  for (const entry of entries) {
    const options = {
      mode: FILE_MODE,
      mtime: entry.mtime ?? new Date(),
      compress: !STORED.has(path.extname(entry.name).slice(1).toLowerCase()),
      ...(entry.size === undefined ? {} : { size: entry.size }),
    };
    zip.addReadStreamLazy(entry.name, options, (done) => {
      entry.open().then(
        (stream) => {
          current = stream;
          // yazl pipes the stream but does not listen for its errors.
          stream.once('error', (err) => output.destroy(err));
          if (output.destroyed) {
            stream.destroy();
          }
          done(null, stream);
        },
        (err: unknown) => done(err, undefined as never),
      );
    });
  }
  zip.end();

  return output;
}
