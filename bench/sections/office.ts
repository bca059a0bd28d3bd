// Office → PDF: convertd's whole API against a cold soffice per file and unoconv with a listener,
// plus the floor: LibreOffice's own warm conversion time over UNO.
import fs from 'node:fs/promises';
import path from 'node:path';

import { expectMagic, runConvertd } from '../lib/convertd';
import { BENCH_DIR, officeInputs, type InputFile } from '../lib/inputs';
import { run, startDaemon, type Daemon } from '../lib/proc';
import { ratioTarget, type Section, type SectionContext } from '../lib/section';
import { freePort, waitForPort } from '../lib/stack';
import {
  contender,
  runPool,
  summarise,
  type ContenderFigures,
  type ItemResult,
} from '../lib/stats';

const SOFFICE = '/usr/bin/soffice';
const PYTHON = '/usr/bin/python3';
const UNOCONV = '/usr/bin/unoconv';
const FILE_TIMEOUT_MS = 180_000;

export const office: Section = async (ctx) => {
  const files = await officeInputs(ctx.quick ? 6 : 40);
  const contenders = [
    await contender('soffice per file', ctx.cores, ctx.signal, () => coldSoffice(ctx, files)),
    await contender('unoconv (listener)', 1, ctx.signal, () => unoconv(ctx, files)),
    await contender('convertd', 2 * ctx.cores, ctx.signal, () => convertd(ctx, files)),
    await contender('warm UNO floor (reference)', ctx.cores, ctx.signal, () =>
      unoFloor(ctx, files),
    ),
  ];
  const soffice = contenders[0]!;

  return {
    name: 'office',
    title: `Office → PDF (${files.length} documents)`,
    unit: 'files/min',
    contenders,
    baseline: soffice.name,
    targets: [
      ratioTarget(contenders, 'files/min', 'convertd', soffice.name, 8),
      ratioTarget(contenders, 'files/min', 'convertd', 'unoconv (listener)', 2),
    ],
    setup: {
      files: files.map((f) => ({ name: f.name, bytes: f.bytes, origin: f.origin })),
      note:
        'every contender converts the same files; each soffice slot has its own profile, ' +
        'made before timing; convertd at 2 x cores through upload, convert, export/url, download',
    },
  };
};

/** One `soffice --convert-to pdf` per file, `cores` at once, each slot with its own profile. */
async function coldSoffice(
  ctx: SectionContext,
  files: readonly InputFile[],
): Promise<ContenderFigures> {
  const dir = await workDir(ctx, 'soffice');
  const profiles = Array.from({ length: ctx.cores }, (_, i) => path.join(dir, `profile-${i}`));
  const convert = async (profile: string, file: InputFile, outDir: string) => {
    await fs.mkdir(outDir, { recursive: true });
    const result = await run(
      SOFFICE,
      [
        '--headless',
        '--norestore',
        `-env:UserInstallation=file://${profile}`,
        '--convert-to',
        'pdf',
        '--outdir',
        outDir,
        file.path,
      ],
      { timeoutMs: FILE_TIMEOUT_MS, signal: ctx.signal },
    );
    if (result.code !== 0) {
      throw new Error(`soffice exit ${result.code ?? result.signal}: ${result.stderr.slice(-200)}`);
    }
    await expectMagic(path.join(outDir, file.name.replace(/\.[^.]+$/, '.pdf')), '%PDF');
  };
  // A first run creates the profile; the timed runs find it made, as a deployment would.
  await Promise.all(profiles.map((p, i) => convert(p, files[0]!, path.join(dir, `warm-${i}`))));

  const free = [...profiles];
  return runPool(
    'soffice per file',
    files,
    ctx.cores,
    async (file, i) => {
      const profile = free.pop()!;
      const t0 = performance.now();
      try {
        await convert(profile, file, path.join(dir, `out-${i}`));
        return { ok: true, ms: performance.now() - t0 };
      } finally {
        free.push(profile);
      }
    },
    ctx.signal,
  );
}

/** Debian's unoconv against one warm listener soffice (the way its manual runs it). */
async function unoconv(
  ctx: SectionContext,
  files: readonly InputFile[],
): Promise<ContenderFigures> {
  const name = 'unoconv (listener)';
  if (!(await ensureUnoconv(ctx))) {
    return {
      ...summarise(name, 1, [], 0, false),
      notes: 'unoconv is not installed (apt-get install --no-install-recommends unoconv)',
    };
  }

  const dir = await workDir(ctx, 'unoconv');
  const port = await freePort();
  const connection = `socket,host=127.0.0.1,port=${port};urp;StarOffice.ComponentContext`;
  const listener = startListener(dir, port, 'listener');
  const convert = async (file: InputFile, dest: string): Promise<ItemResult> => {
    const result = await run(
      PYTHON,
      [UNOCONV, '-c', connection, '-f', 'pdf', '-o', dest, file.path],
      {
        timeoutMs: FILE_TIMEOUT_MS,
        signal: ctx.signal,
      },
    );
    if (result.code !== 0) {
      throw new Error(`unoconv exit ${result.code ?? result.signal}: ${result.stderr.slice(-200)}`);
    }
    await expectMagic(dest, '%PDF');
    return { ok: true, ms: result.ms };
  };
  try {
    await waitForPort(port, 60_000);
    await untilOk(() => convert(files[0]!, path.join(dir, 'warm.pdf')), 60_000, ctx.signal);
    // One listener is one LibreOffice: unoconv's clients queue on it, so one at a time.
    return await runPool(
      name,
      files,
      1,
      (file, i) => convert(file, path.join(dir, `out-${i}.pdf`)),
      ctx.signal,
    );
  } finally {
    await listener.stop();
  }
}

/** convertd's API at 2 × cores: upload, convert to PDF, export/url, download. */
async function convertd(
  ctx: SectionContext,
  files: readonly InputFile[],
): Promise<ContenderFigures> {
  const tasks = {
    upload: { operation: 'import/upload' },
    convert: { operation: 'convert', input: 'upload', output_format: 'pdf' },
    export: { operation: 'export/url', input: 'convert' },
  };
  const { figures, settings } = await runConvertd(
    ctx,
    files,
    tasks,
    (label) => [{ exportTask: 'export', filename: `${label}.pdf`, magic: '%PDF' }],
    await workDir(ctx, 'convertd'),
  );
  return {
    ...figures,
    notes: `worker concurrency ${settings.WORKER_CONCURRENCY ?? 'default (cores)'}`,
  };
}

/**
 * The limit: `cores` warm listeners, each fed its share of the files one after another by one
 * python3-uno process (no process start, no upload; only LibreOffice's load and PDF export).
 */
async function unoFloor(
  ctx: SectionContext,
  files: readonly InputFile[],
): Promise<ContenderFigures> {
  const dir = await workDir(ctx, 'floor');
  const lanes = Array.from({ length: ctx.cores }, (_, i) => i);
  const listeners: Daemon[] = [];
  const started = performance.now();
  try {
    const results = await Promise.all(
      lanes.map(async (lane) => {
        const port = await freePort();
        listeners.push(startListener(dir, port, `floor-${lane}`));
        const share = files.filter((_, i) => i % lanes.length === lane);
        const out = path.join(dir, `out-${lane}`);
        await fs.mkdir(out, { recursive: true });
        const result = await run(
          PYTHON,
          [path.join(BENCH_DIR, 'uno-floor.py'), String(port), out, ...share.map((f) => f.path)],
          {
            timeoutMs: FILE_TIMEOUT_MS * share.length,
            signal: ctx.signal,
            captureStdout: true,
          },
        );
        if (result.code !== 0) {
          throw new Error(
            `uno-floor.py exit ${result.code ?? result.signal}: ${result.stderr.slice(-300)}`,
          );
        }
        return parseFloor(result.stdout);
      }),
    );
    const all = results.flat();
    // The wall clock of the floor includes the listeners' start; the per-file figures do not.
    const busyMs = Math.max(...results.map((r) => r.reduce((sum, x) => sum + x.ms, 0)));
    return {
      ...summarise('warm UNO floor (reference)', lanes.length, all, busyMs, ctx.signal.aborted),
      notes: `files/min from the busiest lane's conversion time; with listener start ${Math.round(performance.now() - started)} ms wall`,
    };
  } finally {
    await Promise.allSettled(listeners.map((l) => l.stop()));
  }
}

function parseFloor(stdout: string): ItemResult[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      const row = JSON.parse(line) as { ms: number; ok: boolean; error: string | null };
      return { ok: row.ok, ms: row.ms, ...(row.error ? { error: row.error } : {}) };
    });
}

function startListener(dir: string, port: number, name: string): Daemon {
  return startDaemon(
    SOFFICE,
    [
      '--headless',
      '--invisible',
      '--nologo',
      '--norestore',
      '--nodefault',
      `--accept=socket,host=127.0.0.1,port=${port};urp;StarOffice.ComponentContext`,
      `-env:UserInstallation=file://${path.join(dir, `profile-${name}`)}`,
    ],
    { logFile: path.join(dir, `${name}.log`) },
  );
}

/** unoconv from Debian, installed without recommends when missing and we are root. */
async function ensureUnoconv(ctx: SectionContext): Promise<boolean> {
  const found = await fs.stat(UNOCONV).then(
    () => true,
    () => false,
  );
  if (found || process.getuid?.() !== 0) {
    return found;
  }

  ctx.log.info('installing unoconv from apt (--no-install-recommends)');
  const result = await run(
    'apt-get',
    ['install', '-y', '-qq', '--no-install-recommends', 'unoconv'],
    {
      timeoutMs: 300_000,
      env: { DEBIAN_FRONTEND: 'noninteractive' },
    },
  );

  return result.code === 0;
}

async function untilOk(
  attempt: () => Promise<unknown>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (err) {
      if (Date.now() > until || signal.aborted) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function workDir(ctx: SectionContext, name: string): Promise<string> {
  const dir = path.join(ctx.tmpRoot, 'office', name);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}
