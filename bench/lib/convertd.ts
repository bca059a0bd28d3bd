// One file through convertd's whole API, as a client does it: create the job, upload to its form,
// wait on the sync origin, download each export. Sub-step timings show where the time goes.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

import { assertFinished, ConvertdClient, exportUrl, taskNamed } from './client';
import type { InputFile } from './inputs';
import type { SectionContext } from './section';
import { startStack } from './stack';
import { runPool, type ContenderFigures, type ItemResult } from './stats';

export interface Output {
  /** Export task name. */
  exportTask: string;
  /** File name to write the download to, in `outDir`. */
  filename: string;
  /** The first bytes a good output starts with. */
  magic: string;
}

/**
 * `tasks` must have an `upload` task of operation import/upload; each output names an export/url
 * task of it.
 */
export async function throughApi(
  client: ConvertdClient,
  file: InputFile,
  tasks: Record<string, unknown>,
  outputs: readonly Output[],
  outDir: string,
): Promise<ItemResult> {
  const t0 = performance.now();
  const created = await client.createJob(tasks);
  const t1 = performance.now();
  await client.upload(
    taskNamed(created, 'upload'),
    file.name,
    fs.createReadStream(file.path),
    file.bytes,
  );
  const t2 = performance.now();
  const job = await client.waitJob(created.id);
  assertFinished(job);
  const t3 = performance.now();
  for (const output of outputs) {
    const dest = path.join(outDir, output.filename);
    await client.download(exportUrl(job, output.exportTask), dest);
    await expectMagic(dest, output.magic);
  }
  const t4 = performance.now();

  return {
    ok: true,
    ms: t4 - t0,
    phases: { create: t1 - t0, upload: t2 - t1, wait: t3 - t2, download: t4 - t3 },
  };
}

/** Throws unless `file` exists and starts with `magic` (e.g. %PDF). */
export async function expectMagic(file: string, magic: string): Promise<void> {
  const handle = await fsp.open(file, 'r').catch(() => null);
  if (!handle) {
    throw new Error(`no output ${path.basename(file)}`);
  }

  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(16), 0, 16, 0);
    if (!buffer.subarray(0, bytesRead).includes(Buffer.from(magic, 'latin1'))) {
      throw new Error(`${path.basename(file)} is not a ${magic} file`);
    }
  } finally {
    await handle.close();
  }
}

/**
 * convertd as a contender: a stack of its own, one untimed file per core first (whatever the
 * worker starts lazily starts before the clock runs), then every file at 2 × cores. `outputs`
 * names the downloads of one file after its label (`warm-<n>`, `out-<n>`).
 */
export async function runConvertd(
  ctx: SectionContext,
  files: readonly InputFile[],
  tasks: Record<string, unknown>,
  outputs: (label: string) => Output[],
  outDir: string,
): Promise<{ figures: ContenderFigures; settings: Record<string, string> }> {
  const stack = await startStack({ tmpRoot: ctx.tmpRoot });
  try {
    const client = new ConvertdClient(stack.url, stack.syncUrl, stack.key, ctx.signal);
    const one = (file: InputFile, label: string) =>
      throughApi(client, file, tasks, outputs(label), outDir);
    await Promise.all(
      Array.from({ length: ctx.cores }, (_, i) => one(files[i % files.length]!, `warm-${i}`)),
    );
    const figures = await runPool(
      'convertd',
      files,
      2 * ctx.cores,
      (file, i) => one(file, `out-${i}`),
      ctx.signal,
    );
    return { figures, settings: stack.settings };
  } finally {
    await stack.close();
  }
}
