// calibre adapter: one `ebook-convert` process per conversion, in a directory of its own that
// holds its home, configuration, caches and temp files, so runs never share state.
import { access, copyFile, link, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';

import { CALIBRE } from '@convertd/api';
import { AppError } from '@convertd/errors';

import type { Engine, EngineJob, EngineResult } from '../engine';
import { moveFile } from '../pdf/files';
import { runProcess } from '../runner';
import { conversionArgs, supports } from './arguments';
import { failureError } from './failure';
import { writeLinkGuard } from './link-guard';

const DETECT_DEADLINE_MS = 30_000;
/** Longest stem kept from the user's file name, in bytes; calibre titles untitled books with it. */
const MAX_STEM_BYTES = 120;

export interface CalibreEngineOptions {
  /** The ebook-convert executable; default `ebook-convert` from PATH. */
  binary?: string;
  /** Delay between SIGTERM and SIGKILL when a conversion is stopped; default 2000. */
  killGraceMs?: number;
}

/** Directories of one run, all inside the task's work dir. */
interface RunDirs {
  root: string;
  input: string;
  output: string;
  home: string;
  guard: string;
}

/** Converts e-books (and documents to e-books) with calibre's command line. */
export class CalibreEngine implements Engine {
  readonly name = 'calibre';
  readonly spec = CALIBRE;
  private readonly binary: string;
  private readonly killGraceMs: number | undefined;
  private version: string | undefined;

  constructor(options: CalibreEngineOptions = {}) {
    this.binary = options.binary ?? 'ebook-convert';
    this.killGraceMs = options.killGraceMs;
  }

  async detect(): Promise<{ version: string } | null> {
    if (this.version !== undefined) {
      return { version: this.version };
    }

    // Even --version reads and writes calibre's configuration: give it a throwaway home.
    const scratch = await mkdtemp(join(tmpdir(), 'convertd-calibre-'));
    try {
      const dirs = await runDirs(scratch);
      const { stdout } = await runProcess(this.binary, ['--version'], {
        cwd: scratch,
        env: calibreEnv(dirs),
        inheritEnv: false,
        deadlineMs: DETECT_DEADLINE_MS,
      });
      // "ebook-convert (calibre 6.13.0)"
      this.version = /calibre\s+(\d+(?:\.\d+)+)/.exec(stdout)?.[1];
    } catch {
      return null;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }

    return this.version === undefined ? null : { version: this.version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const deadlineAt = Date.now() + job.deadlineMs;
    const [input] = job.inputs;
    const output = job.outputFormat;
    if (job.operation !== 'convert' || input === undefined || output === null) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `calibre does not run ${job.operation}.`,
      });
    }

    if (!supports(input.format, output)) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `calibre does not convert ${input.format} to ${output}.`,
      });
    }

    const dirs = await runDirs(await mkdtemp(join(job.workDir, 'calibre-')));
    try {
      // The input sits alone in its directory: calibre resolves relative links of HTML and
      // Markdown against it, and finds nothing there but the book.
      const stem = stagingStem(input.filename);
      const source = join(dirs.input, `${stem}.${input.format}`);
      const target = join(dirs.output, `${stem}.${output}`);
      await linkOrCopy(input.path, source);
      await writeLinkGuard(dirs.guard);
      const run = await runProcess(
        this.binary,
        [source, target, ...conversionArgs(input.format, output, job.options)],
        {
          cwd: dirs.root,
          // Books are untrusted: calibre gets none of the worker's environment.
          // TODO(#7): sandbox ebook-convert (no network, read-only file system outside its dir).
          env: calibreEnv(dirs),
          inheritEnv: false,
          deadlineMs: deadlineAt - Date.now(),
          // Exit code 1 is calibre's answer for every failure; its output tells which.
          okExitCodes: [0, 1],
          ...(job.signal === undefined ? {} : { signal: job.signal }),
          ...(job.logger === undefined ? {} : { logger: job.logger }),
          ...(this.killGraceMs === undefined ? {} : { killGraceMs: this.killGraceMs }),
        },
      );
      if (run.exitCode !== 0) {
        throw failureError(run, input.format);
      }

      if (!(await exists(target))) {
        throw new AppError('ENGINE_FAILED', {
          details: { engine: this.name, reason: 'no output', stderrTail: run.stderr.slice(-4096) },
        });
      }

      const file = await moveFile(target, join(job.outputDir, basename(target)));
      job.logger?.debug(
        { engine: this.name, input: input.format, output, durationMs: run.durationMs },
        'engine converted',
      );

      return { files: [file] };
    } finally {
      await rm(dirs.root, { recursive: true, force: true });
    }
  }
}

async function runDirs(root: string): Promise<RunDirs> {
  const dirs: RunDirs = {
    root,
    input: join(root, 'in'),
    output: join(root, 'out'),
    home: join(root, 'home'),
    guard: join(root, 'python'),
  };
  await Promise.all([dirs.input, dirs.output, dirs.guard].map((dir) => mkdir(dir)));
  for (const dir of ['config', 'cache', 'data', 'calibre', 'tmp']) {
    await mkdir(join(dirs.home, dir), { recursive: true });
  }
  // Qt wants its runtime dir private to the user.
  await mkdir(join(dirs.home, 'runtime'), { mode: 0o700 });

  return dirs;
}

function calibreEnv(dirs: RunDirs): Record<string, string> {
  const home = dirs.home;

  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_RUNTIME_DIR: join(home, 'runtime'),
    CALIBRE_CONFIG_DIRECTORY: join(home, 'calibre'),
    CALIBRE_CACHE_DIRECTORY: join(home, 'cache'),
    CALIBRE_TEMP_DIR: join(home, 'tmp'),
    TMPDIR: join(home, 'tmp'),
    // Failures are recognised by calibre's English messages, and file names are UTF-8.
    LANG: 'C.UTF-8',
    // PDF output renders with QtWebEngine (Chromium): its sandbox cannot start as root nor in
    // most containers, and containers' /dev/shm is too small for large books.
    QTWEBENGINE_CHROMIUM_FLAGS: '--no-sandbox --disable-dev-shm-usage',
    PYTHONPATH: dirs.guard,
  };
}

/**
 * The user's file name without its extension, as calibre may title an untitled book after it.
 * Path separators and control characters go, a leading "-" or "." too; "book" when nothing is left.
 */
export function stagingStem(filename: string): string {
  let stem = basename(filename, extname(filename))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f/\\]/g, '_')
    .replace(/^[\s.-]+/, '')
    .trim();
  while (Buffer.byteLength(stem) > MAX_STEM_BYTES) {
    stem = [...stem].slice(0, -1).join('');
  }

  return stem === '' ? 'book' : stem;
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
