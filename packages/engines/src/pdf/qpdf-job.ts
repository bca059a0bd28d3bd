// Runs qpdf for the PDF engines. Passwords go through a job JSON file, never through argv,
// so they do not show in `ps` or in the runner's debug log of the command line.
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { EngineLogger } from '../logger';
import { runProcess } from '../runner';
import type { RunProcessResult } from '../runner';

export const QPDF = 'qpdf';
const DETECT_DEADLINE_MS = 10_000;

/** What every qpdf call of one engine run shares. */
export interface PdfToolOptions {
  /** Scratch directory of the run; job files and decrypted copies go here. */
  workDir: string;
  /** Time budget in milliseconds, counted from the call. */
  deadlineMs: number;
  signal?: AbortSignal | undefined;
  logger?: EngineLogger | undefined;
}

export interface QpdfCall {
  workDir: string;
  /** Absolute time (ms since the epoch) by which qpdf must be done. */
  deadlineAt: number;
  signal?: AbortSignal | undefined;
  logger?: EngineLogger | undefined;
  /** qpdf exits 2 on errors and 3 on warnings; callers say which codes they interpret. */
  okExitCodes?: readonly number[];
}

/** qpdf with plain arguments; for calls that carry no secret. */
export async function runQpdf(args: readonly string[], call: QpdfCall): Promise<RunProcessResult> {
  return runProcess(QPDF, args, {
    cwd: call.workDir,
    env: qpdfEnv(),
    inheritEnv: false,
    deadlineMs: call.deadlineAt - Date.now(),
    okExitCodes: call.okExitCodes ?? [0, 3],
    signal: call.signal,
    logger: call.logger,
  });
}

/**
 * qpdf driven by a job JSON file (`qpdf --job-json-help` lists the keys). The file is private
 * to this process and removed afterwards, whatever happens.
 */
export async function runQpdfJob(
  job: Record<string, unknown>,
  call: QpdfCall,
): Promise<RunProcessResult> {
  const file = join(call.workDir, `.qpdf-job-${randomUUID()}.json`);
  await writeFile(file, JSON.stringify(job), { mode: 0o600, flag: 'wx' });
  try {
    return await runQpdf([`--job-json-file=${file}`], call);
  } finally {
    await rm(file, { force: true });
  }
}

let detected: Promise<string | null> | undefined;

/** qpdf's version, or null when it is missing; every PDF engine needs it for passwords. */
export async function detectQpdf(): Promise<string | null> {
  detected ??= runProcess(QPDF, ['--version'], {
    cwd: tmpdir(),
    env: qpdfEnv(),
    inheritEnv: false,
    deadlineMs: DETECT_DEADLINE_MS,
  }).then(
    // "qpdf version 11.3.0"
    ({ stdout }) => /qpdf version (\d+(?:\.\d+)+)/.exec(stdout)?.[1] ?? null,
    () => null,
  );

  return detected;
}

function qpdfEnv(): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
}
