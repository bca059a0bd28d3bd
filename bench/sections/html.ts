// HTML → PDF: convertd (engine chrome) against one `chromium --print-to-pdf` per file, plus the
// floor: one warm Chromium driven by playwright-core, a fresh context per page.
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

import { expectMagic, runConvertd } from '../lib/convertd';
import { htmlInputs, type InputFile } from '../lib/inputs';
import { run } from '../lib/proc';
import { ratioTarget, type Section, type SectionContext } from '../lib/section';
import { contender, runPool, type ContenderFigures } from '../lib/stats';

const CHROMIUM = '/usr/bin/chromium';
/** TOOLCHAIN.md's flags for a headless print with no network of its own. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const FILE_TIMEOUT_MS = 120_000;

export const html: Section = async (ctx) => {
  const files = await htmlInputs(ctx.quick ? 6 : 40);
  const contenders = [
    await contender('chromium per file', ctx.cores, ctx.signal, () => chromiumPerFile(ctx, files)),
    await contender('convertd', 2 * ctx.cores, ctx.signal, () => convertd(ctx, files)),
    await contender('warm chromium floor (reference)', ctx.cores, ctx.signal, () =>
      warmFloor(ctx, files),
    ),
  ];
  const cli = contenders[0]!;

  return {
    name: 'html',
    title: `HTML → PDF (${files.length} pages)`,
    unit: 'files/min',
    contenders,
    baseline: cli.name,
    targets: [ratioTarget(contenders, 'files/min', 'convertd', cli.name, 3)],
    setup: {
      files: files.map((f) => ({ name: f.name, bytes: f.bytes, origin: f.origin })),
      chromiumFlags: FLAGS,
      note: 'chromium CLI with a fresh --user-data-dir per file, cores at once; convertd at 2 x cores',
    },
  };
};

async function chromiumPerFile(
  ctx: SectionContext,
  files: readonly InputFile[],
): Promise<ContenderFigures> {
  const dir = await workDir(ctx, 'chromium');
  return runPool(
    'chromium per file',
    files,
    ctx.cores,
    async (file, i) => {
      const profile = path.join(dir, `profile-${i}`);
      const dest = path.join(dir, `out-${i}.pdf`);
      const result = await run(
        CHROMIUM,
        [
          ...FLAGS,
          `--user-data-dir=${profile}`,
          '--no-pdf-header-footer',
          `--print-to-pdf=${dest}`,
          pathToFileURL(file.path).href,
        ],
        { timeoutMs: FILE_TIMEOUT_MS, signal: ctx.signal },
      );
      await fs.rm(profile, { recursive: true, force: true });
      if (result.code !== 0) {
        throw new Error(
          `chromium exit ${result.code ?? result.signal}: ${result.stderr.slice(-200)}`,
        );
      }
      await expectMagic(dest, '%PDF');
      return { ok: true, ms: result.ms };
    },
    ctx.signal,
  );
}

async function convertd(
  ctx: SectionContext,
  files: readonly InputFile[],
): Promise<ContenderFigures> {
  const tasks = {
    upload: { operation: 'import/upload' },
    convert: {
      operation: 'convert',
      input: 'upload',
      input_format: 'html',
      output_format: 'pdf',
      engine: 'chrome',
    },
    export: { operation: 'export/url', input: 'convert' },
  };
  const { figures } = await runConvertd(
    ctx,
    files,
    tasks,
    (label) => [{ exportTask: 'export', filename: `${label}.pdf`, magic: '%PDF' }],
    await workDir(ctx, 'convertd'),
  );
  return figures;
}

/** The limit: Chromium already running, a new context per page, `cores` pages at once. */
async function warmFloor(
  ctx: SectionContext,
  files: readonly InputFile[],
): Promise<ContenderFigures> {
  const dir = await workDir(ctx, 'floor');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: FLAGS.filter((f) => f !== '--headless'),
    timeout: 60_000,
  });
  try {
    const print = async (file: InputFile, dest: string) => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(pathToFileURL(file.path).href, {
          waitUntil: 'load',
          timeout: FILE_TIMEOUT_MS,
        });
        await page.pdf({ path: dest, format: 'A4', printBackground: true });
      } finally {
        await context.close();
      }
    };
    await print(files[0]!, path.join(dir, 'warm.pdf'));
    return await runPool(
      'warm chromium floor (reference)',
      files,
      ctx.cores,
      async (file, i) => {
        const t0 = performance.now();
        await print(file, path.join(dir, `out-${i}.pdf`));
        return { ok: true, ms: performance.now() - t0 };
      },
      ctx.signal,
    );
  } finally {
    await browser.close();
  }
}

async function workDir(ctx: SectionContext, name: string): Promise<string> {
  const dir = path.join(ctx.tmpRoot, 'html', name);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}
