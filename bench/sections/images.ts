// Images: each file resized to 800 px wide and written as WebP and as JPEG, through convertd (one
// job: upload, two converts, two exports) against ImageMagick's convert, one process per output.
import fs from 'node:fs/promises';
import path from 'node:path';

import { expectMagic, runConvertd } from '../lib/convertd';
import { imageInputs, type InputFile } from '../lib/inputs';
import { run } from '../lib/proc';
import type { Section, SectionContext } from '../lib/section';
import { contender, runPool, type ContenderFigures } from '../lib/stats';

/** /usr/local/bin/convert on our machines is not ImageMagick (TOOLCHAIN.md). */
const CONVERT = '/usr/bin/convert';
const WIDTH = 800;
const QUALITY = 80;
const FILE_TIMEOUT_MS = 60_000;

export const images: Section = async (ctx) => {
  const files = await imageInputs(ctx.quick ? 10 : 100);
  const contenders = [
    await contender('ImageMagick convert', ctx.cores, ctx.signal, () => imageMagick(ctx, files)),
    await contender('convertd', 2 * ctx.cores, ctx.signal, () => convertd(ctx, files)),
  ];
  const magick = contenders[0]!;

  return {
    name: 'images',
    title: `Images → ${WIDTH} px WebP + JPEG (${files.length} files)`,
    unit: 'files/min',
    contenders,
    baseline: magick.name,
    // The issue sets no target for images; the table is for comparison.
    targets: [],
    setup: {
      files: files.length,
      totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
      sizes: [...new Set(files.map((f) => f.origin))].slice(0, 5),
      width: WIDTH,
      quality: QUALITY,
      note: 'a file counts once both its outputs exist; ImageMagick cores at once, convertd 2 x cores',
    },
  };
};

async function imageMagick(
  ctx: SectionContext,
  files: readonly InputFile[],
): Promise<ContenderFigures> {
  const dir = await workDir(ctx, 'imagemagick');
  return runPool(
    'ImageMagick convert',
    files,
    ctx.cores,
    async (file, i) => {
      const t0 = performance.now();
      for (const [ext, magic] of [
        ['webp', 'WEBP'],
        ['jpg', '\xff\xd8\xff'],
      ] as const) {
        const dest = path.join(dir, `out-${i}.${ext}`);
        const result = await run(
          CONVERT,
          [file.path, '-auto-orient', '-resize', `${WIDTH}`, '-quality', `${QUALITY}`, dest],
          {
            timeoutMs: FILE_TIMEOUT_MS,
            signal: ctx.signal,
          },
        );
        if (result.code !== 0) {
          throw new Error(
            `convert exit ${result.code ?? result.signal}: ${result.stderr.slice(-200)}`,
          );
        }
        await expectMagic(dest, magic);
      }
      return { ok: true, ms: performance.now() - t0 };
    },
    ctx.signal,
  );
}

async function convertd(
  ctx: SectionContext,
  files: readonly InputFile[],
): Promise<ContenderFigures> {
  const resize = { width: WIDTH, quality: QUALITY };
  const tasks = {
    upload: { operation: 'import/upload' },
    webp: { operation: 'convert', input: 'upload', output_format: 'webp', ...resize },
    jpg: { operation: 'convert', input: 'upload', output_format: 'jpg', ...resize },
    'export-webp': { operation: 'export/url', input: 'webp' },
    'export-jpg': { operation: 'export/url', input: 'jpg' },
  };
  const { figures } = await runConvertd(
    ctx,
    files,
    tasks,
    (label) => [
      { exportTask: 'export-webp', filename: `${label}.webp`, magic: 'WEBP' },
      { exportTask: 'export-jpg', filename: `${label}.jpg`, magic: '\xff\xd8\xff' },
    ],
    await workDir(ctx, 'convertd'),
  );
  return figures;
}

async function workDir(ctx: SectionContext, name: string): Promise<string> {
  const dir = path.join(ctx.tmpRoot, 'images', name);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}
