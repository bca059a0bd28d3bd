// Test helpers: live processes seen through /proc, and rejected AppErrors.
import { readdirSync, readFileSync } from 'node:fs';

import { isAppError } from '@convertd/errors';
import type { AppError } from '@convertd/errors';

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
