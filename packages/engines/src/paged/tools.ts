// Runs poppler and mutool programs on untrusted documents: a clean environment, one deadline for
// all runs of a task, and document passwords kept out of logs and error details.
import { tmpdir } from 'node:os';

import { AppError, isAppError } from '@convertd/errors';

import type { EngineLogger } from '../logger';
import { runProcess } from '../runner';
import type { RunProcessResult } from '../runner';

export interface ToolContext {
  /** Working directory of the program; also its HOME and TMPDIR. */
  cwd: string;
  /** Epoch milliseconds by which every run of the task must be done. */
  deadlineAt: number;
  signal?: AbortSignal | undefined;
  logger?: EngineLogger | undefined;
  killGraceMs?: number | undefined;
  /** Argument values never to log (a document password). */
  secrets?: readonly string[];
}

const REDACTED = '[redacted]';
const DETECT_DEADLINE_MS = 10_000;

/**
 * The version a program prints when run with `args`: `pattern`'s first group, looked for on
 * stderr and stdout (poppler and mutool print it on stderr). Undefined when it prints none;
 * rejects when the program cannot run.
 */
export async function toolVersion(
  file: string,
  args: readonly string[],
  pattern: RegExp,
  okExitCodes: readonly number[] = [0],
): Promise<string | undefined> {
  const { stdout, stderr } = await runProcess(file, args, {
    cwd: tmpdir(),
    deadlineMs: DETECT_DEADLINE_MS,
    okExitCodes,
  });

  return pattern.exec(`${stderr}\n${stdout}`)?.[1];
}

export async function runTool(
  file: string,
  args: readonly string[],
  ctx: ToolContext,
  okExitCodes: readonly number[] = [0],
): Promise<RunProcessResult> {
  const secrets = (ctx.secrets ?? []).filter((s) => s !== '');
  const logger = ctx.logger && secrets.length > 0 ? redacting(ctx.logger, secrets) : ctx.logger;
  try {
    return await runProcess(file, args, {
      cwd: ctx.cwd,
      env: toolEnv(ctx.cwd),
      inheritEnv: false,
      deadlineMs: ctx.deadlineAt - Date.now(),
      okExitCodes,
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
      ...(logger === undefined ? {} : { logger }),
      ...(ctx.killGraceMs === undefined ? {} : { killGraceMs: ctx.killGraceMs }),
    });
  } catch (err) {
    // The runner puts argv into the error details, which the worker logs.
    if (secrets.length > 0 && isAppError(err) && err.details !== undefined) {
      throw new AppError(err.code, {
        message: err.message,
        cause: err.cause,
        details: scrub(err.details, secrets),
      });
    }

    throw err;
  }
}

/** What the programs need of an environment, and none of the worker's secrets. */
function toolEnv(cwd: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: cwd,
    TMPDIR: cwd,
    LANG: process.env['LANG'] ?? 'C.UTF-8',
  };
  const lcAll = process.env['LC_ALL'];
  if (lcAll !== undefined && lcAll !== '') {
    env['LC_ALL'] = lcAll;
  }

  return env;
}

function scrub<T extends object>(obj: T, secrets: readonly string[]): T {
  const args = (obj as { args?: unknown }).args;
  if (!Array.isArray(args)) {
    return obj;
  }

  return {
    ...obj,
    args: args.map((a: unknown) => (typeof a === 'string' && secrets.includes(a) ? REDACTED : a)),
  };
}

function redacting(logger: EngineLogger, secrets: readonly string[]): EngineLogger {
  return {
    debug: (obj, msg) => logger.debug(scrub(obj, secrets), msg),
    info: (obj, msg) => logger.info(scrub(obj, secrets), msg),
    warn: (obj, msg) => logger.warn(scrub(obj, secrets), msg),
    error: (obj, msg) => logger.error(scrub(obj, secrets), msg),
  };
}
