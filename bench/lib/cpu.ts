// Where the CPU went: per-process CPU time from /proc, the machine's busy share, and what else
// was running (a shared box: other people's test runs compete with the bench).
import fs from 'node:fs/promises';
import os from 'node:os';

import { MARKER_ENV } from './proc';

/** Linux reports CPU times in clock ticks of 1/100 s on every platform we run. */
const TICK_MS = 10;

export interface CpuSnapshot {
  at: number;
  /** utime + stime per pid, in ms. */
  processes: Record<number, number>;
  machineBusy: number;
  machineTotal: number;
}

export async function cpuSnapshot(pids: readonly number[]): Promise<CpuSnapshot> {
  const processes: Record<number, number> = {};
  for (const pid of pids) {
    processes[pid] = await processCpuMs(pid);
  }
  const stat = await fs.readFile('/proc/stat', 'utf8');
  const fields = (stat.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((sum, v) => sum + v, 0);

  return { at: performance.now(), processes, machineBusy: total - idle, machineTotal: total };
}

export interface CpuUse {
  /** CPU ms each named process used between the snapshots. */
  processMs: Record<string, number>;
  /** Share of all cores busy (anything on the machine), 0-100. */
  machineBusyPct: number;
}

export function cpuBetween(
  before: CpuSnapshot,
  after: CpuSnapshot,
  names: Record<string, number>,
): CpuUse {
  const processMs = Object.fromEntries(
    Object.entries(names).map(([name, pid]) => [
      name,
      Math.round((after.processes[pid] ?? 0) - (before.processes[pid] ?? 0)),
    ]),
  );
  const total = after.machineTotal - before.machineTotal;

  return {
    processMs,
    machineBusyPct:
      total > 0 ? Math.round(((after.machineBusy - before.machineBusy) / total) * 1000) / 10 : 0,
  };
}

/** PostgreSQL backends serving `database` (their process title names it). */
export async function postgresBackends(database: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.startsWith('postgres: ') && cmdline.includes(` ${database} `)) {
      pids.push(Number(entry));
    }
  }

  return pids;
}

export interface Surroundings {
  loadAverage: number[];
  /** Test runs and engines of others that were alive (they share the cores with the bench). */
  foreign: { vitest: number; soffice: number; chromium: number };
}

export async function surroundings(runId: string): Promise<Surroundings> {
  const foreign = { vitest: 0, soffice: 0, chromium: 0 };
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    const [cmdline, environ] = await Promise.all([
      fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => ''),
      fs.readFile(`/proc/${entry}/environ`, 'utf8').catch(() => ''),
    ]);
    if (environ.includes(`${MARKER_ENV}=${runId}\0`)) {
      continue;
    }
    if (cmdline.includes('vitest')) {
      foreign.vitest += 1;
    } else if (cmdline.includes('soffice.bin')) {
      foreign.soffice += 1;
    } else if (cmdline.includes('chromium') && !cmdline.includes('--type=')) {
      foreign.chromium += 1;
    }
  }

  return { loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100), foreign };
}

async function processCpuMs(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11] ?? 0);
  const stime = Number(fields[12] ?? 0);

  return (utime + stime) * TICK_MS;
}
