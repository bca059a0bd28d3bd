// Orchestration: jobs of import/raw (1 KB) → export/url created on the sync origin, which answers
// once the job has ended, 32 at a time for 30 s. Two references show where the time goes: the
// gateway's bare HTTP rate (/healthz) and one job at a time.
import { ConvertdClient, assertFinished } from '../lib/client';
import type { Section, SectionContext, TargetCheck } from '../lib/section';
import { startStack } from '../lib/stack';
import { runFor, type ContenderFigures } from '../lib/stats';

const CONCURRENCY = 32;
const PAYLOAD = 'x'.repeat(1024);

export const orchestration: Section = async (ctx) => {
  const durationMs = ctx.quick ? 5_000 : 30_000;
  const stack = await startStack({ tmpRoot: ctx.tmpRoot });
  const contenders: ContenderFigures[] = [];
  try {
    const client = new ConvertdClient(stack.url, stack.syncUrl, stack.key);
    const job = async () => {
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
    await warmUp(job, ctx);
    contenders.push(await runFor('convertd sync jobs', durationMs, CONCURRENCY, job, ctx.signal));
    contenders.push(
      await runFor(
        'one job at a time (reference)',
        Math.min(durationMs, 10_000),
        1,
        job,
        ctx.signal,
      ),
    );
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
  } finally {
    await stack.close();
  }

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
    setup: {
      concurrency: CONCURRENCY,
      durationMs,
      payloadBytes: PAYLOAD.length,
      logLevel: stack.settings.LOG_LEVEL,
    },
  };
};

async function warmUp(job: () => Promise<unknown>, ctx: SectionContext): Promise<void> {
  const until = performance.now() + 2_000;
  while (performance.now() < until && !ctx.signal.aborted) {
    await Promise.all(Array.from({ length: 4 }, job));
  }
}
