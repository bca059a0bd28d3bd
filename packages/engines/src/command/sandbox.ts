// The directories a `command` runs in: its inputs as /input/<task>/<file>, its results in
// /output/, and running it with every real path of ours kept out of what the user sees.
import { copyFile, link, lstat, mkdir, readdir, realpath } from 'node:fs/promises';
import { extname, join } from 'node:path';

import { AppError } from '@convertd/errors';

import type { EngineJob, EngineResult } from '../engine';
import { runProcess } from '../runner';
import type { SandboxDirs } from './guard';

/** Captured console output returned with `capture_output`, in characters (the last ones). */
const OUTPUT_CAP = 64 * 1024;
/** Lines of stderr put in the message of a command that failed. */
const FAILURE_LINES = 12;
const FAILURE_CHARS = 2000;
/** A command's own exit code is reported, not mapped by the runner. */
const ANY_EXIT = Array.from({ length: 256 }, (_, code) => code);
const PLAIN_SEGMENT = /^[A-Za-z0-9_-]{1,100}$/;

export interface Sandbox extends SandboxDirs {
  /** The run's work dir; everything the command may touch is under it. */
  root: string;
  /** TMPDIR and HOME of the command. */
  tmp: string;
  /** Real paths in a text turned back into the ones the command was given. */
  unmap(text: string): string;
}

/** Lays out /input (links to the task's files), /output (the job's output dir) and a temp dir. */
export async function prepareSandbox(job: EngineJob): Promise<Sandbox> {
  const root = job.workDir;
  const input = join(root, 'input');
  const tmp = join(root, 'tmp');
  await mkdir(input, { recursive: true });
  await mkdir(tmp, { recursive: true });
  await mkdir(job.outputDir, { recursive: true });
  const taken = new Set<string>();
  for (const file of job.inputs) {
    // The worker's own copies; a symlink could point the command outside its directories.
    if ((await lstat(file.path)).isSymbolicLink()) {
      throw new AppError('ENGINE_FAILED', { message: 'An input file is not a regular file.' });
    }

    const dir = join(input, segment(file.source));
    await mkdir(dir, { recursive: true });
    // Two files of one task with the same name: the second is name-2.ext, and so on.
    const base = fileName(file.filename, file.path);
    const ext = extname(base);
    let name = base;
    for (let n = 2; taken.has(join(dir, name)); n += 1) {
      name = `${base.slice(0, base.length - ext.length)}-${n}${ext}`;
    }
    taken.add(join(dir, name));
    await linkOrCopy(file.path, join(dir, name));
  }

  const pairs: [string, string][] = [];
  for (const [real, shown] of [
    [input, '/input'],
    [job.outputDir, '/output'],
    [tmp, '/tmp'],
    [root, '/work'],
  ] as const) {
    pairs.push([real, shown]);
    const resolved = await realpath(real);
    if (resolved !== real) {
      pairs.push([resolved, shown]);
    }
  }
  // Longest first, so that /work/.../input is not shown as /work/input.
  pairs.sort((a, b) => b[0].length - a[0].length);

  return {
    root,
    input,
    output: job.outputDir,
    tmp,
    unmap: (text) => pairs.reduce((out, [real, shown]) => out.split(real).join(shown), text),
  };
}

export interface CommandRun {
  /** The program's name as the user gave it (`ffmpeg`, `convert`, `gm`), for messages. */
  command: string;
  file: string;
  args: readonly string[];
  env: Record<string, string>;
  capture: boolean;
  /** More real paths to keep out of messages and output (an engine's config dir), and their stand-ins. */
  hidden?: readonly (readonly [real: string, shown: string])[];
}

/** Runs a checked command; its regular files in /output are the results. */
export async function runSandboxed(
  job: EngineJob,
  sandbox: Sandbox,
  run: CommandRun,
): Promise<EngineResult> {
  const result = await runProcess(run.file, run.args, {
    cwd: sandbox.output,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: sandbox.tmp,
      TMPDIR: sandbox.tmp,
      LANG: 'C.UTF-8',
      ...run.env,
    },
    inheritEnv: false,
    deadlineMs: job.deadlineMs,
    okExitCodes: ANY_EXIT,
    ...(job.signal === undefined ? {} : { signal: job.signal }),
    ...(job.logger === undefined ? {} : { logger: job.logger }),
  });
  const unmap = (text: string) =>
    (run.hidden ?? []).reduce(
      (out, [real, shown]) => out.split(real).join(shown),
      sandbox.unmap(text),
    );
  if (result.exitCode !== 0) {
    const tail = unmap(result.stderr || result.stdout)
      .trimEnd()
      .split('\n');
    const lines = tail.slice(-FAILURE_LINES).join('\n').slice(-FAILURE_CHARS);
    throw new AppError('ENGINE_FAILED', {
      message: `${run.command} exited with code ${result.exitCode}${lines ? `:\n${lines}` : '.'}`,
      details: { command: run.command, exitCode: result.exitCode, durationMs: result.durationMs },
    });
  }

  const files = await outputFiles(sandbox.output);
  job.logger?.debug({ command: run.command, files: files.length }, 'command finished');
  if (!run.capture) {
    return { files };
  }
  const printed = [result.stdout, result.stderr].filter((s) => s !== '').join('\n');

  return { files, output: unmap(printed).slice(-OUTPUT_CAP) };
}

/** Regular files at the top of `dir`, in natural order (out-2 before out-10). */
async function outputFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });

  return entries
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((name) => join(dir, name));
}

/** A task name or id as one directory name. */
function segment(source: string): string {
  return PLAIN_SEGMENT.test(source)
    ? source
    : source.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100) || 'input';
}

/** The user's file name as one file name; ours when it cannot be one. */
function fileName(filename: string, path: string): string {
  const name = filename.split(/[\\/]/).pop() ?? '';

  return name === '' || name === '.' || name === '..' || name.includes('\0')
    ? `input${extname(path)}`
    : name;
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}
