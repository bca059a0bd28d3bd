// qpdf adapter: encrypt and decrypt PDFs, split them, extract and rotate pages. qpdf rewrites
// the file structure without rendering anything, so these run in milliseconds.
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { PDF_ROTATIONS, QPDF as QPDF_SPEC } from '@convertd/api';
import { AppError } from '@convertd/errors';

import type { Engine, EngineJob, EngineResult } from '../engine';
import { moveFile } from '../pdf/files';
import { pagesOf } from '../pdf/pages';
import { detectQpdf, runQpdf, runQpdfJob } from '../pdf/qpdf-job';
import type { QpdfCall } from '../pdf/qpdf-job';
import { openPdf } from '../pdf/unlock';
import type { OpenedPdf } from '../pdf/unlock';
import { encryptionJob } from './encrypt';
import { qpdfRange } from './ranges';

/** qpdf's relative turn for each `rotation` value. */
const TURNS: Record<(typeof PDF_ROTATIONS)[number], string> = {
  '+90': '+90',
  '-90': '-90',
  '180': '+180',
  '90': '+90',
  '270': '-90',
};

export class QpdfEngine implements Engine {
  readonly name = 'qpdf';
  readonly spec = QPDF_SPEC;

  async detect(): Promise<{ version: string } | null> {
    const version = await detectQpdf();

    return version === null ? null : { version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const deadlineAt = Date.now() + job.deadlineMs;
    const [input] = job.inputs;
    if (input === undefined) {
      throw new AppError('NO_INPUT_FILES');
    }

    const password = job.options['password'];
    const opened = await openPdf(input, typeof password === 'string' ? password : undefined, {
      workDir: job.workDir,
      deadlineMs: job.deadlineMs,
      signal: job.signal,
      logger: job.logger,
    });
    const call: QpdfCall = {
      workDir: job.workDir,
      deadlineAt,
      signal: job.signal,
      logger: job.logger,
    };
    const output = join(job.outputDir, 'output.pdf');
    const source = opened.input.path;
    switch (job.operation) {
      case 'pdf/decrypt':
        return { files: [await decrypted(opened, output)] };
      case 'pdf/encrypt':
        await runQpdfJob(
          { inputFile: source, outputFile: output, encrypt: encryptionJob(job.options) },
          call,
        );

        return { files: [output] };
      case 'pdf/split-pages':
        return { files: await split(source, job.workDir, job.outputDir, call) };
      case 'pdf/extract-pages': {
        const pages = qpdfRange(pagesOf(job.options['pages'], opened.pages));
        await runQpdf([source, '--pages', '.', pages, '--', output], call);

        return { files: [output] };
      }
      case 'pdf/rotate-pages': {
        const turn = TURNS[job.options['rotation'] as keyof typeof TURNS] as string | undefined;
        if (turn === undefined) {
          throw new AppError('INVALID_DATA', {
            errors: { rotation: [`The rotation must be one of ${PDF_ROTATIONS.join(', ')}.`] },
          });
        }

        const raw = job.options['pages'];
        const pages =
          raw === undefined || raw === '' ? '' : `:${qpdfRange(pagesOf(raw, opened.pages))}`;
        await runQpdf([source, output, `--rotate=${turn}${pages}`], call);

        return { files: [output] };
      }
      default:
        throw new AppError('INVALID_CONVERSION_TYPE', {
          message: `qpdf does not run ${job.operation}.`,
        });
    }
  }
}

/** The decrypted copy moved into place, or the plain input copied. */
async function decrypted(opened: OpenedPdf, output: string): Promise<string> {
  if (opened.decrypted) {
    await moveFile(opened.input.path, output);
  } else {
    await copyFile(opened.input.path, output);
  }

  return output;
}

/** One file per page, in page order. */
async function split(
  source: string,
  workDir: string,
  outputDir: string,
  call: QpdfCall,
): Promise<string[]> {
  const dir = join(workDir, 'split');
  await mkdir(dir);
  // qpdf puts the zero-padded page number where %d is.
  await runQpdf([source, '--split-pages', join(dir, 'page-%d.pdf')], call);
  const pages = (await readdir(dir))
    .map((name) => ({ name, page: Number(/^page-(\d+)\.pdf$/.exec(name)?.[1]) }))
    .filter((p) => Number.isInteger(p.page))
    .sort((a, b) => a.page - b.page);
  const files: string[] = [];
  for (const { name, page } of pages) {
    files.push(await moveFile(join(dir, name), join(outputDir, `page-${page}.pdf`)));
  }

  return files;
}
