// Every program the bench starts runs in its own process group, is killed with its group on a
// deadline, and is remembered until it exits, so Ctrl-C or a failure leaves no soffice behind.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';

/** Set on every child: `sweepStragglers` finds their descendants by it, wherever they moved. */
export const MARKER_ENV = 'CONVERTD_BENCH_RUN';

const LIVE = new Set<ChildProcess>();
const STDERR_TAIL = 4096;

export interface RunOptions {
  timeoutMs: number;
  env?: Record<string, string>;
  cwd?: string;
  signal?: AbortSignal;
  /** Keep what the program prints (else it is dropped). */
  captureStdout?: boolean;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  ms: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (or its deadline) and kills whatever its group left behind. */
export async function run(cmd: string, args: string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const child = spawnGroup(cmd, args, options.env, options.cwd, [
    'ignore',
    options.captureStdout ? 'pipe' : 'ignore',
    'pipe',
  ]);
  let stdout = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, options.timeoutMs);
  const onAbort = () => killGroup(child, 'SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const [code, signal] = await exited(child);
    if (child.stdout && !child.stdout.readableEnded) {
      await Promise.race([
        new Promise((resolve) => child.stdout?.once('close', resolve)),
        new Promise((resolve) => setTimeout(resolve, 2000)),
      ]);
    }
    return { code, signal, timedOut, ms: performance.now() - started, stdout, stderr };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    // soffice's launcher and chromium's zygotes may outlive the process we started.
    killGroup(child, 'SIGKILL');
  }
}

export interface Daemon {
  pid: number;
  child: ChildProcess;
  /** SIGTERM to the group, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a long-lived program whose output goes to `logFile`. */
export function startDaemon(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; logFile: string },
): Daemon {
  const log = fs.openSync(options.logFile, 'a');
  const child = spawnGroup(cmd, args, options.env, options.cwd, ['ignore', log, log]);
  fs.closeSync(log);
  if (child.pid === undefined) {
    throw new Error(`${cmd} did not start`);
  }

  return {
    pid: child.pid,
    child,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) {
        killGroup(child, 'SIGKILL');
        return;
      }
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      await exited(child);
      clearTimeout(timer);
      killGroup(child, 'SIGKILL');
    },
  };
}

/** Last resort at exit: every group still alive gets SIGKILL. */
export function killAll(): void {
  for (const child of LIVE) {
    killGroup(child, 'SIGKILL');
  }
}

/**
 * Kills processes of this run that left their group (LibreOffice and Chromium start helpers that
 * may call setsid): they carry the marker in their environment or the run's root in their argv.
 */
export async function sweepStragglers(runId: string | null, root: string): Promise<number> {
  let killed = 0;
  for (const entry of await fsp.readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) {
      continue;
    }

    const [environ, cmdline] = await Promise.all([
      fsp.readFile(`/proc/${pid}/environ`, 'utf8').catch(() => ''),
      fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''),
    ]);
    const marked = runId !== null && environ.includes(`${MARKER_ENV}=${runId}\0`);
    if (marked || cmdline.includes(root)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed += 1;
      } catch {
        // Gone already.
      }
    }
  }

  return killed;
}

function spawnGroup(
  cmd: string,
  args: string[],
  env: Record<string, string> | undefined,
  cwd: string | undefined,
  stdio: ['ignore', 'ignore' | 'pipe' | number, 'ignore' | 'pipe' | number],
): ChildProcess {
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio,
    detached: true,
  });
  LIVE.add(child);
  child.once('exit', () => LIVE.delete(child));
  child.once('error', () => LIVE.delete(child));

  return child;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) {
    return;
  }

  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is empty.
  }
}

async function exited(child: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return [child.exitCode, child.signalCode];
  }

  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve([code, signal]));
    child.once('error', () => resolve([null, null]));
  });
}
