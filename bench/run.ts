// `pnpm bench [office] [html] [images] [orchestration] [memory] [--quick] [--profile]`: convertd
// against the tools people run instead, side by side on this machine. Prints a table per section
// and writes bench/results/<date>.json. --quick (fewer files, a smoke check) and --profile (CPU
// profiles of the gateway and the worker during orchestration) write to bench/.cache/results/.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { pino } from 'pino';

import { BENCH_DIR, CACHE } from './lib/inputs';
import { surroundings } from './lib/cpu';
import { machineFacts, type MachineFacts } from './lib/machine';
import { killAll, MARKER_ENV, sweepStragglers } from './lib/proc';
import { formatSection, type Section, type SectionResult } from './lib/section';
import { errorText } from './lib/stats';
import { html } from './sections/html';
import { images } from './sections/images';
import { memory } from './sections/memory';
import { office } from './sections/office';
import { orchestration } from './sections/orchestration';

/** Each section's bound: past it no new file starts and what runs is killed. */
const SECTIONS: Record<string, { run: Section; deadlineMs: number }> = {
  office: { run: office, deadlineMs: 20 * 60_000 },
  html: { run: html, deadlineMs: 10 * 60_000 },
  images: { run: images, deadlineMs: 10 * 60_000 },
  orchestration: { run: orchestration, deadlineMs: 5 * 60_000 },
  memory: { run: memory, deadlineMs: 10 * 60_000 },
};

interface ResultsFile {
  date: string;
  machine: MachineFacts;
  sections: Record<
    string,
    SectionResult & { commit: string; uncommitted: string[]; quick: boolean; command: string }
  >;
}

const log = pino(
  { base: { service: 'bench' }, level: process.env.LOG_LEVEL ?? 'info' },
  pino.destination(2),
);

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const profile = args.includes('--profile');
  const unknown = args.filter((a) => a.startsWith('-') && a !== '--quick' && a !== '--profile');
  const wanted = args.filter((a) => !a.startsWith('-'));
  const bad = wanted.filter((name) => !(name in SECTIONS));
  if (unknown.length > 0 || bad.length > 0) {
    process.stderr.write(
      `unknown ${[...unknown, ...bad].join(', ')}; usage: pnpm bench [${Object.keys(SECTIONS).join('] [')}] [--quick] [--profile]\n`,
    );
    return 2;
  }

  const names = wanted.length > 0 ? wanted : Object.keys(SECTIONS);
  const runId = randomBytes(6).toString('hex');
  // Inherited by every program the bench starts, and by theirs: the final sweep finds them by it.
  process.env[MARKER_ENV] = runId;
  const tmpRoot = await fs.mkdtemp(path.join(os.tmpdir(), `convertd-bench-${runId}-`));
  const interrupted = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts > 1) {
      // A second Ctrl-C: no more waiting for a graceful stop.
      killAll();
      process.exit(130);
    }
    log.warn({ signal }, 'stopping: cleaning up (Ctrl-C again to kill at once)');
    interrupted.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const machine = await machineFacts();
  const date = new Date().toISOString().slice(0, 10);
  const resultsDir =
    quick || profile ? path.join(CACHE, 'results') : path.join(BENCH_DIR, 'results');
  const resultsPath = path.join(resultsDir, `${date}.json`);
  process.stdout.write(
    `convertd bench ${date}: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ` +
      `node ${machine.node}, commit ${machine.commit.slice(0, 12)}${machine.uncommitted.length > 0 ? ' (+ uncommitted changes)' : ''}${quick ? ', quick' : ''}\n`,
  );

  let failed = false;
  try {
    for (const name of names) {
      if (interrupted.signal.aborted) {
        break;
      }
      const result = await runSection(name, {
        runId,
        tmpRoot,
        cores: machine.cores,
        quick,
        profile,
        signal: AbortSignal.any([
          interrupted.signal,
          AbortSignal.timeout(SECTIONS[name]!.deadlineMs),
        ]),
        log: log.child({ section: name }),
      });
      failed ||= result.error !== undefined;
      process.stdout.write(formatSection(result));
      // A section cut short by Ctrl-C measured nothing worth keeping.
      if (!interrupted.signal.aborted) {
        await saveSection(resultsPath, { date, machine, quick }, result);
      }
    }
  } finally {
    killAll();
    const stragglers = await sweepStragglers(runId, tmpRoot);
    if (stragglers > 0) {
      log.warn({ stragglers }, 'killed processes left behind');
    }
    await fs.rm(tmpRoot, { recursive: true, force: true });
  }
  process.stdout.write(`\nresults: ${path.relative(process.cwd(), resultsPath)}\n`);

  return interrupted.signal.aborted ? 130 : failed ? 1 : 0;
}

async function runSection(name: string, ctx: Parameters<Section>[0]): Promise<SectionResult> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const before = await surroundings(ctx.runId);
  ctx.log.info({ loadAverage: before.loadAverage, others: before.foreign }, 'section started');
  try {
    const result = await SECTIONS[name]!.run(ctx);
    const durationMs = Math.round(performance.now() - t0);
    ctx.log.info({ durationMs }, 'section finished');
    const after = await surroundings(ctx.runId);
    return { ...result, startedAt, durationMs, surroundings: { before, after } };
  } catch (err) {
    ctx.log.error({ err }, 'section failed');
    return {
      name,
      title: name,
      unit: 'files/min',
      contenders: [],
      targets: [],
      setup: {},
      startedAt,
      durationMs: Math.round(performance.now() - t0),
      error: errorText(err),
    };
  }
}

/** Adds the section to the day's file, so sections run one by one end up in one file. */
async function saveSection(
  file: string,
  run: { date: string; machine: MachineFacts; quick: boolean },
  result: SectionResult,
): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const previous = await fs
    .readFile(file, 'utf8')
    .then((text) => JSON.parse(text) as ResultsFile)
    .catch(() => null);
  const command = `pnpm bench ${process.argv.slice(2).join(' ')}`.trim();
  const next: ResultsFile = {
    date: run.date,
    machine: run.machine,
    sections: {
      ...previous?.sections,
      [result.name]: {
        ...result,
        commit: run.machine.commit,
        uncommitted: run.machine.uncommitted,
        quick: run.quick,
        command,
      },
    },
  };
  await fs.writeFile(file, `${JSON.stringify(next, null, 2)}\n`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log.fatal({ err }, 'bench failed');
    killAll();
    process.exit(1);
  },
);
