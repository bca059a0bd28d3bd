// Memory: the gateway process's RSS while a 1 GiB file is uploaded, archived into a tar (no
// compression: the cheapest path through a worker) and downloaded. The client streams both ways
// and never holds the file: it is generated as it is sent and counted as it arrives.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { Readable } from 'node:stream';

import { ConvertdClient, assertFinished, exportUrl, taskNamed } from '../lib/client';
import type { Section, SectionContext } from '../lib/section';
import { startStack } from '../lib/stack';
import { percentile, round } from '../lib/stats';

const MiB = 2 ** 20;
const SAMPLE_MS = 50;
const LIMIT_MIB = 64;

type Phase = 'idle' | 'upload' | 'archive' | 'download' | 'after';

interface Sample {
  ms: number;
  phase: Phase;
  gatewayKiB: number;
  workerKiB: number;
}

export const memory: Section = async (ctx) => {
  const bytes = ctx.quick ? 64 * MiB : 1024 * MiB;
  const stack = await startStack({ tmpRoot: ctx.tmpRoot });
  const samples: Sample[] = [];
  const timings: Record<string, number> = {};
  let downloaded: number;
  try {
    const client = new ConvertdClient(stack.url, stack.syncUrl, stack.key, ctx.signal);
    // Everything the path loads lazily is loaded before the baseline is taken.
    await archiveRoundTrip(client, MiB, () => undefined);

    let phase: Phase = 'idle';
    const t0 = performance.now();
    const timer = setInterval(() => {
      void sample(stack.gatewayPid, stack.workerPid).then((s) => {
        if (s) {
          samples.push({ ms: round(performance.now() - t0), phase, ...s });
        }
      });
    }, SAMPLE_MS);
    try {
      await settle(ctx, 2_000);
      downloaded = await archiveRoundTrip(client, bytes, (next) => {
        timings[phase] = round(performance.now() - t0);
        phase = next;
      });
      await settle(ctx, 1_000);
    } finally {
      clearInterval(timer);
    }
  } finally {
    await stack.close();
  }

  const idle = samples.filter((s) => s.phase === 'idle').map((s) => s.gatewayKiB);
  const baseline = percentile(idle, 50);
  const peakOf = (phase: Phase, key: 'gatewayKiB' | 'workerKiB' = 'gatewayKiB') =>
    Math.max(0, ...samples.filter((s) => s.phase === phase).map((s) => s[key]));
  const peak = Math.max(peakOf('upload'), peakOf('archive'), peakOf('download'));
  const growthMiB = round((peak - baseline) / 1024);
  const workerIdle = percentile(
    samples.filter((s) => s.phase === 'idle').map((s) => s.workerKiB),
    50,
  );
  const workerPeak = Math.max(
    peakOf('upload', 'workerKiB'),
    peakOf('archive', 'workerKiB'),
    peakOf('download', 'workerKiB'),
  );
  const phases = (['upload', 'archive', 'download'] as const).map((p) => ({
    phase: p,
    gatewayPeakMiB: round(peakOf(p) / 1024),
    growthMiB: round((peakOf(p) - baseline) / 1024),
  }));

  return {
    name: 'memory',
    title: `Memory: gateway RSS over a ${bytes / MiB} MiB upload, tar archive and download`,
    unit: 'files/min',
    contenders: [],
    targets: [
      {
        target: `gateway RSS growth <= ${LIMIT_MIB} MiB`,
        measured:
          `${growthMiB} MiB (baseline ${round(baseline / 1024)} MiB, peak ${round(peak / 1024)} MiB` +
          `${growthMiB < 0 ? '; below zero: the collector gave back more than the transfer took' : ''})`,
        pass: growthMiB <= LIMIT_MIB && downloaded > bytes,
      },
    ],
    lines: [
      ...phases.map(
        (p) => `  ${p.phase}: gateway peak ${p.gatewayPeakMiB} MiB (+${p.growthMiB} MiB)`,
      ),
      `  worker (for comparison): baseline ${round(workerIdle / 1024)} MiB, peak ${round(workerPeak / 1024)} MiB`,
      `  downloaded ${round(downloaded / MiB)} MiB; ${samples.length} samples every ${SAMPLE_MS} ms; phase ends at ${JSON.stringify(timings)} ms`,
    ],
    setup: {
      bytes,
      sampleMs: SAMPLE_MS,
      archive: 'tar',
      source: '/proc/<gateway pid>/status VmRSS',
    },
    extra: {
      baselineMiB: round(baseline / 1024),
      peakMiB: round(peak / 1024),
      growthMiB,
      phases,
      worker: { baselineMiB: round(workerIdle / 1024), peakMiB: round(workerPeak / 1024) },
      downloadedBytes: downloaded,
      phaseEndsMs: timings,
      samples: samples.map((s) => [s.ms, s.phase, s.gatewayKiB, s.workerKiB]),
    },
  };
};

/** Upload `bytes`, archive them into a tar, download it; the number of bytes downloaded. */
async function archiveRoundTrip(
  client: ConvertdClient,
  bytes: number,
  onPhase: (phase: Phase) => void,
): Promise<number> {
  const job = await client.createJob({
    upload: { operation: 'import/upload' },
    archive: { operation: 'archive', input: ['upload'], output_format: 'tar' },
    export: { operation: 'export/url', input: 'archive' },
  });
  onPhase('upload');
  await client.upload(taskNamed(job, 'upload'), 'big.bin', generated(bytes), bytes);
  onPhase('archive');
  const done = await client.waitJob(job.id);
  assertFinished(done);
  onPhase('download');
  const downloaded = await client.download(exportUrl(done, 'export'));
  onPhase('after');

  return downloaded;
}

/** `bytes` of incompressible data, made 1 MiB at a time as the socket takes it. */
function generated(bytes: number): Readable {
  const block = randomBytes(MiB);
  let sent = 0;
  return new Readable({
    highWaterMark: MiB,
    read() {
      if (sent >= bytes) {
        this.push(null);
        return;
      }
      const n = Math.min(MiB, bytes - sent);
      // A fresh buffer per chunk: the socket may still hold the previous one.
      const chunk = Buffer.from(block.subarray(0, n));
      chunk.writeUInt32BE(sent / MiB, 0);
      sent += n;
      this.push(chunk);
    },
  });
}

async function sample(
  gatewayPid: number,
  workerPid: number,
): Promise<{ gatewayKiB: number; workerKiB: number } | null> {
  const [gateway, worker] = await Promise.all([vmRss(gatewayPid), vmRss(workerPid)]);
  return gateway === null ? null : { gatewayKiB: gateway, workerKiB: worker ?? 0 };
}

async function vmRss(pid: number): Promise<number | null> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) : null;
}

async function settle(ctx: SectionContext, ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ctx.signal.aborted ? 0 : ms));
}
