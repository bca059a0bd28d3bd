// pdf-lib adapter: PDF work done in the worker's own process (no external program), so it has no
// process to kill: it checks the task's signal and deadline between pages and files instead.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

import { PDFLIB } from '@convertd/api';
import { AppError } from '@convertd/errors';

import type { Engine, EngineJob, EngineResult } from '../engine';
import { guardOf } from './document';
import { writeMetadata } from './metadata';
import { extractPages, merge, rotatePages, splitPages } from './page-tools';
import { watermark } from './watermark';

const require = createRequire(import.meta.url);

/** Merges, watermarks, splits, extracts, rotates and writes Info metadata of PDFs. */
export class PdfLibEngine implements Engine {
  readonly name = 'pdflib';
  readonly spec = PDFLIB;
  private version: string | undefined;

  /** The version of the pdf-lib package this worker loaded. */
  async detect(): Promise<{ version: string } | null> {
    if (this.version === undefined) {
      try {
        const manifest = JSON.parse(
          await readFile(require.resolve('pdf-lib/package.json'), 'utf8'),
        ) as { version?: unknown };
        this.version = typeof manifest.version === 'string' ? manifest.version : undefined;
      } catch {
        return null;
      }
    }

    return this.version === undefined ? null : { version: this.version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const guard = guardOf(job);
    const started = Date.now();
    let files: string[];
    switch (job.operation) {
      case 'merge':
        files = await merge(job, guard);
        break;
      case 'watermark':
        files = await watermark(job, guard);
        break;
      case 'pdf/split-pages':
        files = await splitPages(job, guard);
        break;
      case 'pdf/extract-pages':
        files = await extractPages(job, guard);
        break;
      case 'pdf/rotate-pages':
        files = await rotatePages(job, guard);
        break;
      case 'metadata/write':
        files = await writeMetadata(job, guard);
        break;
      default:
        throw new AppError('INVALID_CONVERSION_TYPE', {
          message: `pdf-lib does not run ${job.operation}.`,
        });
    }
    job.logger?.debug(
      {
        engine: this.name,
        operation: job.operation,
        files: files.length,
        durationMs: Date.now() - started,
      },
      'engine finished',
    );

    return { files };
  }
}
