// The one process runner of all engines: deadline, cancel, tree kill, capped output, error mapping.
import { performance } from 'node:perf_hooks';

import { execa } from 'execa';

import { AppError } from '@convertd/errors';

import type { EngineLogger } from './logger';
import { signalGroup, trackGroup, untrackGroup } from './process-group';
import { TailBuffer } from './tail-buffer';

export const DEFAULT_KILL_GRACE_MS = 2000;
/** Output kept per stream; older bytes are dropped. */
export const OUTPUT_CAP_BYTES = 64 * 1024;
/** Stderr kept on errors, for the log. */
const STDERR_TAIL_BYTES = 4096;
/** How long stdout/stderr may stay open once the process is gone or SIGKILLed. */
const SETTLE_MS = 500;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RunProcessOptions {
  cwd: string;
  /** Added to the current environment, or the whole environment when `inheritEnv` is false. */
  env?: Record<string, string>;
  /** Whether the program sees this process's environment; default true. */
  inheritEnv?: boolean;
  /** Time budget in milliseconds, counted from the call; past it the process group is killed. */
  deadlineMs: number;
  signal?: AbortSignal;
  /** Delay between SIGTERM and SIGKILL to the group; default 2000. */
  killGraceMs?: number;
  logger?: EngineLogger;
  /** Exit codes that count as success; default `[0]`. */
  okExitCodes?: readonly number[];
  /** Written to the program's stdin (secrets such as passwords: never in argv). */
  input?: string;
}

export interface RunProcessResult {
  /** The last 64 KB of stdout. */
  stdout: string;
  /** The last 64 KB of stderr. */
  stderr: string;
  exitCode: number;
  durationMs: number;
}

type StopReason = 'timeout' | 'abort';

/**
 * Runs `file` in its own process group and settles once the whole group is gone, within
 * `deadlineMs + killGraceMs + 0.5 s` even when the program ignores SIGTERM.
 */
export async function runProcess(
  file: string,
  args: readonly string[],
  options: RunProcessOptions,
): Promise<RunProcessResult> {
  const { signal, logger } = options;
  const graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const context = { file, args };
  if (signal?.aborted === true) {
    throw new AppError('ENGINE_CANCELLED', { cause: signal.reason, details: context });
  }

  if (options.deadlineMs <= 0) {
    throw new AppError('ENGINE_TIMEOUT', { details: { ...context, reason: 'no time left' } });
  }

  const started = performance.now();
  // detached: the child calls setsid(), so its pid is also the id of a new process group that
  // its own children (soffice.bin under oosplash) join; killing -pid reaches all of them.
  const subprocess = execa(file, args, {
    cwd: options.cwd,
    env: options.env ?? {},
    extendEnv: options.inheritEnv ?? true,
    detached: true,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    buffer: false,
    encoding: 'buffer',
    reject: false,
    cleanup: false,
  });
  const spawnedPid = subprocess.pid;
  if (spawnedPid === undefined) {
    const failed = await subprocess;
    throw new AppError('ENGINE_FAILED', {
      cause: failed.cause ?? failed,
      details: { ...context, reason: 'spawn failed', errno: (failed as { code?: string }).code },
    });
  }

  // Also the process group id; a plain const so closures below keep it narrowed.
  const pid: number = spawnedPid;
  trackGroup(pid);
  logger?.debug({ file, args, pid }, 'engine started');
  const stdout = new TailBuffer(OUTPUT_CAP_BYTES);
  const stderr = new TailBuffer(OUTPUT_CAP_BYTES);
  subprocess.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  subprocess.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

  return new Promise<RunProcessResult>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    let reason: StopReason | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;

    const later = (ms: number, fn: () => void): void => {
      timers.push(setTimeout(fn, Math.min(ms, MAX_TIMER_MS)));
    };

    // Reached only when a pipe outlives the process (a descendant that left the group keeps it).
    const forceSettle = (): void => {
      subprocess.stdout.destroy();
      subprocess.stderr.destroy();
      settle();
    };

    const stop = (why: StopReason): void => {
      if (reason !== undefined || exit !== undefined || settled) {
        return;
      }

      reason = why;
      signalGroup(pid, 'SIGTERM');
      later(graceMs, () => {
        signalGroup(pid, 'SIGKILL');
        later(SETTLE_MS, forceSettle);
      });
    };

    const onAbort = (): void => stop('abort');

    function settle(): void {
      if (settled) {
        return;
      }

      settled = true;
      timers.forEach(clearTimeout);
      signal?.removeEventListener('abort', onAbort);
      untrackGroup(pid);
      const durationMs = Math.round(performance.now() - started);
      const exitCode = exit?.code ?? null;
      const exitSignal = exit?.signal ?? null;
      logger?.debug({ pid, exitCode, signal: exitSignal, reason, durationMs }, 'engine exited');
      const details = {
        ...context,
        exitCode,
        signal: exitSignal,
        durationMs,
        stderrTail: stderr.text(STDERR_TAIL_BYTES),
        stdoutBytes: stdout.bytesSeen,
        stderrBytes: stderr.bytesSeen,
      };
      const code = outcomeCode(reason, exit, options.okExitCodes ?? [0]);
      if (code !== undefined) {
        reject(
          new AppError(code, reason === 'abort' ? { cause: signal?.reason, details } : { details }),
        );

        return;
      }

      resolve({
        stdout: stdout.text(),
        stderr: stderr.text(),
        exitCode: exitCode ?? 0,
        durationMs,
      });
    }

    subprocess.once('exit', (code, exitSignal) => {
      exit = { code, signal: exitSignal };
      // The leader is gone; anything left in its group is a stray that would hold the pipes open.
      signalGroup(pid, 'SIGKILL');
      later(SETTLE_MS, forceSettle);
    });
    later(options.deadlineMs, () => stop('timeout'));
    signal?.addEventListener('abort', onAbort, { once: true });
    // With reject: false the promise only tells that execa is done with exit and streams.
    void subprocess.then(settle, settle);
  });
}

function outcomeCode(
  reason: StopReason | undefined,
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined,
  okExitCodes: readonly number[],
): 'ENGINE_TIMEOUT' | 'ENGINE_CANCELLED' | 'ENGINE_CRASHED' | 'ENGINE_FAILED' | undefined {
  if (reason === 'timeout') {
    return 'ENGINE_TIMEOUT';
  }

  if (reason === 'abort') {
    return 'ENGINE_CANCELLED';
  }

  if (exit === undefined) {
    return 'ENGINE_FAILED';
  }

  if (exit.signal !== null) {
    return 'ENGINE_CRASHED';
  }

  return exit.code !== null && okExitCodes.includes(exit.code) ? undefined : 'ENGINE_FAILED';
}
