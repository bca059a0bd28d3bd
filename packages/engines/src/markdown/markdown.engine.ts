// markdown-it adapter: Markdown to a standalone HTML page in the worker's own process; PDF, DOCX
// and ODT are that page handed on to the worker's HTML engines (Chrome, LibreOffice).
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join, parse } from 'node:path';

import { MARKDOWN } from '@convertd/api';
import { AppError } from '@convertd/errors';

import type { Engine, EngineInput, EngineJob, EngineResult } from '../engine';
import { renderPage } from './page';

const require = createRequire(import.meta.url);

/** Parsing runs on the worker's event loop; a source past this would hold it too long. */
const MAX_SOURCE_BYTES = 16 * 1024 * 1024;
/** Images inlined into the page for LibreOffice, which must not fetch anything itself. */
const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
const IMAGE_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};
const OUTPUTS = new Set(['html', 'pdf', 'docx', 'odt']);

export class MarkdownEngine implements Engine {
  readonly name = 'markdown';
  readonly spec = MARKDOWN;
  private version: string | undefined;

  /** The version of the markdown-it package this worker loaded. */
  detect(): Promise<{ version: string } | null> {
    if (this.version === undefined) {
      try {
        const { version } = require('markdown-it/package.json') as { version?: unknown };
        this.version = typeof version === 'string' ? version : undefined;
      } catch {
        return Promise.resolve(null);
      }
    }

    return Promise.resolve(this.version === undefined ? null : { version: this.version });
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const format = job.outputFormat ?? '';
    if (job.operation !== 'convert' || !OUTPUTS.has(format)) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `The markdown engine does not run ${job.operation} to ${format || 'no format'}.`,
      });
    }

    const [input] = job.inputs;
    if (input === undefined) {
      throw new AppError('NO_INPUT_FILES');
    }

    if ((await stat(input.path)).size > MAX_SOURCE_BYTES) {
      throw new AppError('INVALID_DATA', {
        message: `The Markdown file is larger than ${MAX_SOURCE_BYTES / 1024 / 1024} MiB.`,
      });
    }

    const started = Date.now();
    const source = await readFile(input.path, 'utf8');
    // LibreOffice gets its images inside the page: it would otherwise fetch remote ones itself,
    // outside the egress policy Chrome's pages go through.
    const office = format === 'docx' || format === 'odt';
    const images = office ? await siblingImages(input, job.siblings) : undefined;
    const page = renderPage(source, {
      breaks: job.options.breaks === true,
      typographer: job.options.typographer === true,
      fallbackTitle: parse(input.filename).name || 'Document',
      ...(images === undefined
        ? {}
        : { localImage: (path: string) => images.get(path) ?? null, dropRemoteImages: true }),
    });
    job.signal?.throwIfAborted();
    job.logger?.debug(
      { engine: this.name, bytes: source.length, ms: Date.now() - started },
      'markdown rendered',
    );

    if (format === 'html') {
      const target = join(job.outputDir, 'document.html');
      await writeFile(target, page);

      return { files: [target] };
    }

    return { files: await this.handOn(job, input, page, format) };
  }

  /** Converts the page with the worker's best engine for HTML to `format`. */
  private async handOn(
    job: EngineJob,
    input: EngineInput,
    page: string,
    format: string,
  ): Promise<string[]> {
    if (job.delegate === undefined) {
      throw new AppError('ENGINE_UNAVAILABLE', {
        message: `No engine of this worker converts HTML to ${format}.`,
      });
    }

    const dir = join(job.workDir, 'page');
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'document.html');
    await writeFile(path, page);
    const html: EngineInput = {
      path,
      format: 'html',
      filename: 'document.html',
      source: input.source,
    };
    // Chrome copies these beside the page and reads files from there only, so a relative image
    // reaches the task's own files and nothing else on the server.
    const others = job.siblings.filter((s) => s.path !== input.path);

    return job.delegate('convert', [html, ...others], format, {});
  }
}

/** The task's image files by name, as data: URLs. */
async function siblingImages(
  input: EngineInput,
  siblings: readonly EngineInput[],
): Promise<Map<string, string>> {
  const images = new Map<string, string>();
  for (const sibling of siblings) {
    const type = IMAGE_TYPES[extname(sibling.filename).slice(1).toLowerCase()];
    if (sibling.path === input.path || type === undefined || images.has(sibling.filename)) {
      continue;
    }

    if ((await stat(sibling.path)).size <= MAX_IMAGE_BYTES) {
      const data = await readFile(sibling.path);
      images.set(sibling.filename, `data:${type};base64,${data.toString('base64')}`);
    }
  }

  return images;
}
