// Test helpers shared by the engine tests: the corpus, engine jobs in fresh dirs, a stored ZIP
// writer, live processes seen through /proc, and rejected AppErrors.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';

import { isAppError } from '@convertd/errors';
import type { AppError } from '@convertd/errors';
import { afterAll, beforeAll } from 'vitest';

import type { EngineInput, EngineJob } from '../src/engine';

const run = promisify(execFile);

export const CORPUS = resolve(import.meta.dirname, '../../../../shared/corpus');

/** A scratch directory for one test file: made before its tests run, removed after them. */
export function scratchDir(prefix: string): { readonly path: string } {
  const dir = { path: '' };
  beforeAll(async () => {
    dir.path = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (dir.path !== '') {
      await rm(dir.path, { recursive: true, force: true });
    }
  });

  return dir;
}

/** An input file as the worker hands it on, its format taken from the extension. */
export function inputOf(
  path: string,
  filename = basename(path),
  source = 'import-it',
): EngineInput {
  return { path, format: extname(path).slice(1).toLowerCase(), filename, source };
}

export interface JobSpec extends Partial<Omit<EngineJob, 'workDir' | 'outputDir'>> {
  operation: string;
  inputs: EngineInput[];
}

/** A job as the worker builds it, in fresh work and output dirs under `root`. */
export async function engineJob(root: string, spec: JobSpec): Promise<EngineJob> {
  const workDir = await mkdtemp(join(root, 'run-'));
  const outputDir = join(workDir, 'out');
  await mkdir(outputDir);

  return {
    siblings: spec.inputs,
    assets: [],
    outputFormat: null,
    options: {},
    deadlineMs: 60_000,
    ...spec,
    workDir,
    outputDir,
  };
}

/** The page count pdfinfo reads. */
export async function pdfPages(file: string): Promise<number> {
  const { stdout } = await run('pdfinfo', [file]);

  return Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]);
}

/**
 * A ZIP archive of stored (uncompressed) entries, names taken as given (real zip tools refuse
 * hostile ones), flagged as UTF-8: enough for CBZ and XPS packages too.
 */
export function storedZip(entries: { name: string; data: string | Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const data = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }

  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);

  return Buffer.concat([...locals, directory, end]);
}

/** Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp. */
function statOf(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state = '', , pgrp = ''] = raw.slice(raw.lastIndexOf(')') + 2).split(' ');

    return { state, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/** True for a running process; a zombie waiting to be reaped counts as gone. */
export function isAlive(pid: number): boolean {
  const stat = statOf(pid);

  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** Pids of the live processes whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      const stat = statOf(pid);

      return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X';
    });
}

/** Waits up to `ms` for `check` to hold; processes take a moment to be reaped. */
export async function eventually(check: () => boolean, ms = 1000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) {
      return true;
    }

    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  return check();
}

/** Pids of live processes whose command line mentions `needle` (e.g. a profile root). */
export function processesMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Awaits a rejection and returns the AppError with the elapsed time. */
export async function failure(run: Promise<unknown>): Promise<{ err: AppError; ms: number }> {
  const started = Date.now();
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = Date.now() - started;
  if (!isAppError(err)) {
    throw new Error(`expected an AppError, got ${String(err)}`);
  }

  return { err, ms };
}
