// Orchestration: jobs of import/raw (1 KB) → export/url created on the sync origin, which answers
// once the job has ended, 32 at a time for 30 s. References show where the time goes: one job at
// a time, the gateway's bare HTTP rate (/healthz), the same load with more worker concurrency,
// and the CPU each process spent per job.
import fs from 'node:fs/promises';
import path from 'node:path';

import { ConvertdClient, assertFinished } from '../lib/client';
import { cpuBetween, cpuSnapshot, postgresBackends } from '../lib/cpu';
import { CACHE } from '../lib/inputs';
import { summariseProfiles, type ProfileSummary } from '../lib/profile';
import type { Section, SectionContext, TargetCheck } from '../lib/section';
import { startStack, type Stack } from '../lib/stack';
import { runFor, type ContenderFigures, type ItemResult } from '../lib/stats';

const CONCURRENCY = 32;
const PAYLOAD = 'x'.repeat(1024);
/** WORKER_CONCURRENCY of the second run: its io queue then takes 2 × 16 = 32 tasks at once. */
const WIDE_WORKER = 16;

export const orchestration: Section = async (ctx) => {
  const durationMs = ctx.quick ? 5_000 : 30_000;
  const contenders: ContenderFigures[] = [];
  const cpu: Record<string, unknown> = {};
  const profiles = path.join(CACHE, 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
  const nodeArgs = ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : [];

  await withStack(ctx, {}, nodeArgs, async (stack, job) => {
    const main = await measured(stack, () =>
      runFor('convertd sync jobs', durationMs, CONCURRENCY, job, ctx.signal),
    );
    contenders.push(main.figures);
    cpu.default = main.cpu;
    const single = await runFor(
      'one job at a time (reference)',
      Math.min(durationMs, 10_000),
      1,
      job,
      ctx.signal,
    );
    contenders.push(single);
    contenders.push(
      await runFor(
        'GET /healthz (reference)',
        Math.min(durationMs, 5_000),
        CONCURRENCY,
        async () => {
          const t0 = performance.now();
          const res = await fetch(`${stack.url}/healthz`);
          await res.arrayBuffer();
          return { ok: res.status === 200, ms: performance.now() - t0 };
        },
        ctx.signal,
      ),
    );
  });
  const profiled = ctx.profile ? await profileLines(profiles) : null;
  await withStack(ctx, { WORKER_CONCURRENCY: String(WIDE_WORKER) }, [], async (stack, job) => {
    const wide = await measured(stack, () =>
      runFor(
        `WORKER_CONCURRENCY=${WIDE_WORKER} (reference)`,
        Math.min(durationMs, 15_000),
        CONCURRENCY,
        job,
        ctx.signal,
      ),
    );
    contenders.push(wide.figures);
    cpu.wide = wide.cpu;
  });

  const main = contenders[0]!;
  const targets: TargetCheck[] = [
    {
      target: '>= 500 jobs/s',
      measured: `${main.perSecond.toFixed(1)} jobs/s`,
      pass: main.perSecond >= 500 && main.failed === 0,
    },
    {
      target: 'p50 <= 20 ms',
      measured: `${main.p50Ms.toFixed(1)} ms`,
      pass: main.ok > 0 && main.p50Ms <= 20,
    },
    {
      target: 'p99 <= 100 ms',
      measured: `${main.p99Ms.toFixed(1)} ms`,
      pass: main.ok > 0 && main.p99Ms <= 100,
    },
  ];

  return {
    name: 'orchestration',
    title: `Orchestration: import/raw 1 KB → export/url on the sync origin (${durationMs / 1000} s)`,
    unit: 'jobs/s',
    contenders,
    baseline: main.name,
    targets,
    lines: [
      ...Object.entries(cpu).map(([run, use]) => `  CPU per job (${run}): ${JSON.stringify(use)}`),
      ...(profiled?.lines ?? []),
    ],
    setup: {
      concurrency: CONCURRENCY,
      durationMs,
      payloadBytes: PAYLOAD.length,
      logLevel: 'warn',
      profiled: ctx.profile,
    },
    extra: { cpu, ...(profiled ? { profiles: profiled.summaries } : {}) },
  };
};

type Job = () => Promise<ItemResult>;

async function withStack(
  ctx: SectionContext,
  env: Record<string, string>,
  nodeArgs: string[],
  body: (stack: Stack, job: Job) => Promise<void>,
): Promise<void> {
  const stack = await startStack({ tmpRoot: ctx.tmpRoot, env, nodeArgs });
  try {
    const client = new ConvertdClient(stack.url, stack.syncUrl, stack.key, ctx.signal);
    const job: Job = async () => {
      const t0 = performance.now();
      const done = await client.createJob(
        {
          raw: { operation: 'import/raw', file: PAYLOAD, filename: 'one-kb.txt' },
          export: { operation: 'export/url', input: 'raw' },
        },
        true,
      );
      assertFinished(done);
      return { ok: true, ms: performance.now() - t0 };
    };
    // Connections, prepared statements and JIT warm before the clock runs.
    const until = performance.now() + 2_000;
    while (performance.now() < until && !ctx.signal.aborted) {
      await Promise.all(Array.from({ length: 4 }, job));
    }
    await body(stack, job);
  } finally {
    await stack.close();
  }
}

/** The figures plus the CPU the gateway and the worker spent per job, and the machine's load. */
async function measured(stack: Stack, measure: () => Promise<ContenderFigures>) {
  const pids = (backends: readonly number[]): Record<string, number> => ({
    gateway: stack.gatewayPid,
    worker: stack.workerPid,
    ...Object.fromEntries(backends.map((pid) => [`postgres ${pid}`, pid])),
  });
  const startBackends = await postgresBackends(stack.database);
  const before = await cpuSnapshot(Object.values(pids(startBackends)));
  const figures = await measure();
  // Backends opened during the run count from zero.
  const all = pids([...new Set([...startBackends, ...(await postgresBackends(stack.database))])]);
  const use = cpuBetween(before, await cpuSnapshot(Object.values(all)), all);
  const jobs = Math.max(1, figures.ok);
  const perJob = (ms: number) => Math.round((ms / jobs) * 100) / 100;
  const postgres = Object.entries(use.processMs)
    .filter(([name]) => name.startsWith('postgres'))
    .reduce((sum, [, ms]) => sum + ms, 0);

  return {
    figures,
    cpu: {
      gatewayMsPerJob: perJob(use.processMs.gateway!),
      workerMsPerJob: perJob(use.processMs.worker!),
      postgresMsPerJob: perJob(postgres),
      machineBusyPct: use.machineBusyPct,
    },
  };
}

/** Where the profiled processes spent their CPU, by package (files kept for a closer look). */
async function profileLines(
  dir: string,
): Promise<{ lines: string[]; summaries: ProfileSummary[] }> {
  await fs.mkdir(dir, { recursive: true });
  const summaries = await summariseProfiles(dir);
  const lines = summaries.map(
    (s) =>
      `  profile ${s.file} (${s.totalMs} ms CPU): ` +
      s.byPackage.map((p) => `${p.name} ${p.pct}%`).join(', '),
  );

  return { lines: [...lines, `  profiles in ${path.relative(process.cwd(), dir)}`], summaries };
}
