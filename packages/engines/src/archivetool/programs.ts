// The programs behind the formats no npm library writes well: 7-Zip for 7z, bzip2 for tar.bz2.
import { copyFile, link, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { EngineLogger } from '../logger';
import { runProcess } from '../runner';

const DETECT_DEADLINE_MS = 10_000;
/** 7-Zip reads and stores names in the locale's charset; UTF-8 keeps users' names intact. */
const UTF8_ENV = { LC_ALL: 'C.UTF-8' };

export interface Program {
  binary: string;
  version: string;
}

export interface RunContext {
  deadlineMs: number;
  signal?: AbortSignal;
  logger?: EngineLogger;
}

/**
 * The first of `binaries` that answers with a version, or null. Debian's `7zip` package installs
 * `7zz`, the older p7zip `7z`; both print "7-Zip ... <version>" in their banner.
 */
export async function findSevenZip(binaries: readonly string[]): Promise<Program | null> {
  for (const binary of binaries) {
    const version = await versionOf(binary, [], /7-Zip\b.*?\b(\d+\.\d+)\b/);
    if (version !== null) {
      return { binary, version };
    }
  }

  return null;
}

/** bzip2 prints its version on stderr: "bzip2, a block-sorting file compressor.  Version 1.0.8". */
export async function findBzip2(binary: string): Promise<Program | null> {
  const version = await versionOf(binary, ['--version'], /Version (\d+(?:\.\d+)+)/);

  return version === null ? null : { binary, version };
}

async function versionOf(binary: string, args: string[], pattern: RegExp): Promise<string | null> {
  try {
    const { stdout, stderr } = await runProcess(binary, args, {
      cwd: tmpdir(),
      env: UTF8_ENV,
      deadlineMs: DETECT_DEADLINE_MS,
    });
    return pattern.exec(`${stdout}\n${stderr}`)?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * Writes `output` (a .7z) from `files`, staged under their entry names in `stageDir` (links, so
 * no bytes are copied), because 7-Zip stores the names it reads from disk. Names follow `--`,
 * where 7-Zip reads no switch or `@listfile`, and `-spd` turns off its wildcard matching, so a
 * user's `-r` or `*.pdf` is only a name.
 */
export async function writeSevenZip(
  program: Program,
  files: readonly { name: string; path: string }[],
  output: string,
  stageDir: string,
  context: RunContext,
): Promise<void> {
  await mkdir(stageDir, { recursive: true });
  for (const file of files) {
    await linkOrCopy(file.path, path.join(stageDir, file.name));
  }
  await runProcess(
    program.binary,
    // -sse: fail instead of skipping a file it cannot open; -bso0 -bsp0: no progress output.
    [
      'a',
      '-t7z',
      '-bd',
      '-bso0',
      '-bsp0',
      '-y',
      '-spd',
      '-sse',
      output,
      '--',
      ...files.map((f) => f.name),
    ],
    { cwd: stageDir, env: UTF8_ENV, ...context },
  );
}

/** Compresses `tarPath` to `<tarPath>.bz2` in place (bzip2 removes the .tar when it succeeds). */
export async function bzip2File(
  program: Program,
  tarPath: string,
  context: RunContext,
): Promise<string> {
  await runProcess(program.binary, ['-z', '-9', '--', path.basename(tarPath)], {
    cwd: path.dirname(tarPath),
    ...context,
  });

  return `${tarPath}.bz2`;
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}
