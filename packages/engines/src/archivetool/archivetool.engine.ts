// archivetool: the `archive` operation. zip, tar and tar.gz are streamed by npm libraries;
// tar.bz2 goes through Debian's bzip2 and 7z through 7-Zip, which a worker may lack.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

import { ARCHIVE_FORMATS, ARCHIVETOOL } from '@convertd/api';
import { AppError, isAppError } from '@convertd/errors';

import type { Engine, EngineInput, EngineJob, EngineResult } from '../engine';
import { archiveEntryNames, type ArchiveEntry } from './entries';
import { bzip2File, findBzip2, findSevenZip, writeSevenZip, type Program } from './programs';
import { tarStream } from './tar';
import { zipStream } from './zip';

type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

export interface ArchiveToolEngineOptions {
  /** 7-Zip programs tried in order; default `7zz` (Debian's 7zip), then `7z` (p7zip). */
  sevenZip?: readonly string[];
  /** The bzip2 program; default `bzip2` from PATH. */
  bzip2?: string;
}

interface Programs {
  sevenZip: Program | null;
  bzip2: Program | null;
}

/**
 * Puts every input file of a task into one archive named `archive.<format>`. The engine is
 * served wherever Node runs; a worker without 7-Zip or bzip2 still makes zip and tar archives
 * and fails 7z or tar.bz2 tasks with ENGINE_UNAVAILABLE, naming the missing program.
 */
export class ArchiveToolEngine implements Engine {
  readonly name = 'archivetool';
  readonly spec = ARCHIVETOOL;
  private readonly sevenZipBinaries: readonly string[];
  private readonly bzip2Binary: string;
  private programs: Promise<Programs> | undefined;

  constructor(options: ArchiveToolEngineOptions = {}) {
    this.sevenZipBinaries = options.sevenZip ?? ['7zz', '7z'];
    this.bzip2Binary = options.bzip2 ?? 'bzip2';
  }

  /** The version of yazl, which writes the zip archives every worker can make. */
  async detect(): Promise<{ version: string } | null> {
    await this.findPrograms();
    const require = createRequire(import.meta.url);
    const { version } = require('yazl/package.json') as { version: string };

    return { version };
  }

  /** The 7-Zip and bzip2 this engine found (null when missing), for logs and tests. */
  async tools(): Promise<Programs> {
    return this.findPrograms();
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const format = job.outputFormat;
    if (job.operation !== 'archive' || !isArchiveFormat(format)) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `archivetool does not run ${job.operation}${format ? ` to ${format}` : ''}.`,
      });
    }
    if (job.inputs.length === 0) {
      throw new AppError('NO_INPUT_FILES');
    }

    const deadlineAt = Date.now() + job.deadlineMs;
    // Programs get the job's own signal: the runner tells a timeout from a cancel by itself.
    const program = () => ({
      deadlineMs: deadlineAt - Date.now(),
      signal: job.signal,
      logger: job.logger,
    });
    const streamed = AbortSignal.any(
      [AbortSignal.timeout(Math.max(1, job.deadlineMs)), job.signal].filter(
        (s): s is AbortSignal => s !== undefined,
      ),
    );
    const output = path.join(job.outputDir, `archive.${format}`);
    const names = archiveEntryNames(job.inputs.map((input) => input.filename));
    try {
      switch (format) {
        case 'zip':
          await save(zipStream(await entriesOf(job.inputs, names)), output, streamed);
          break;
        case 'tar':
          await save(tarStream(await entriesOf(job.inputs, names)), output, streamed);
          break;
        case 'tar.gz':
        case 'tgz':
          await save(tarStream(await entriesOf(job.inputs, names)), output, streamed, true);
          break;
        case 'tar.bz2': {
          const bzip2 = (await this.findPrograms()).bzip2 ?? unavailable('bzip2', 'bzip2', format);
          const tar = path.join(job.workDir, 'archive.tar');
          await save(tarStream(await entriesOf(job.inputs, names)), tar, streamed);
          await rename(await bzip2File(bzip2, tar, program()), output);
          break;
        }
        case '7z': {
          const sevenZip =
            (await this.findPrograms()).sevenZip ?? unavailable('7-Zip', '7zip', format);
          const files = job.inputs.map((input, i) => ({ name: names[i]!, path: input.path }));
          await writeSevenZip(sevenZip, files, output, path.join(job.workDir, 'stage'), program());
          break;
        }
      }
    } catch (err) {
      throw failure(err, job.signal);
    }

    job.logger?.debug(
      { engine: this.name, format, entries: names.length, bytes: (await stat(output)).size },
      'archive written',
    );

    return { files: [output] };
  }

  private findPrograms(): Promise<Programs> {
    this.programs ??= Promise.all([
      findSevenZip(this.sevenZipBinaries),
      findBzip2(this.bzip2Binary),
    ]).then(([sevenZip, bzip2]) => ({ sevenZip, bzip2 }));

    return this.programs;
  }
}

function isArchiveFormat(format: string | null): format is ArchiveFormat {
  return (ARCHIVE_FORMATS as readonly (string | null)[]).includes(format);
}

async function entriesOf(
  inputs: readonly EngineInput[],
  names: readonly string[],
): Promise<ArchiveEntry[]> {
  return Promise.all(
    inputs.map(async (input, i) => {
      const info = await stat(input.path);
      return {
        name: names[i]!,
        size: info.size,
        mtime: info.mtime,
        open: () => Promise.resolve<Readable>(createReadStream(input.path)),
      };
    }),
  );
}

/** Streams `source` (gzipped when asked) into `file`, stopped by `signal`. */
async function save(source: Readable, file: string, signal: AbortSignal, gzip = false) {
  await (gzip
    ? pipeline(source, createGzip(), createWriteStream(file), { signal })
    : pipeline(source, createWriteStream(file), { signal }));
}

function unavailable(program: string, debianPackage: string, format: string): never {
  throw new AppError('ENGINE_UNAVAILABLE', {
    message: `This worker cannot write ${format} archives: ${program} is not installed (Debian package ${debianPackage}).`,
  });
}

/** Errors of in-process streams as the runner reports program errors. */
function failure(err: unknown, jobSignal: AbortSignal | undefined): AppError {
  if (isAppError(err)) {
    return err;
  }
  if ((err as { name?: unknown }).name === 'AbortError') {
    return jobSignal?.aborted === true
      ? new AppError('ENGINE_CANCELLED', { cause: jobSignal.reason })
      : new AppError('ENGINE_TIMEOUT', { cause: err });
  }

  return new AppError('ENGINE_FAILED', { cause: err, details: { engine: 'archivetool' } });
}
