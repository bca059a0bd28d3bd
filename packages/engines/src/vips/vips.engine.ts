// vips adapter: images converted, optimized, thumbnailed and watermarked by libvips through sharp,
// inside the worker process (no process start per file).
import { AppError } from '@convertd/errors';

import { VIPS } from '@convertd/api';

import type { Engine, EngineJob, EngineResult } from '../engine';
import { convertImage, thumbnailImage } from './convert';
import { optimizeImage } from './optimize';
import { VipsRun, type SharpModule } from './run';
import { watermarkImage } from './watermark';

let loaded: Promise<SharpModule> | undefined;

/** sharp is loaded on first use, so a machine without its native binary only loses this engine. */
function loadSharp(): Promise<SharpModule> {
  loaded ??= import('sharp').then(({ default: sharp }) => {
    // Every file is new: libvips' operation cache would only hold memory and open files.
    sharp.cache(false);
    return sharp;
  });

  return loaded;
}

export class VipsEngine implements Engine {
  readonly name = 'vips';
  readonly spec = VIPS;

  async detect(): Promise<{ version: string } | null> {
    try {
      const sharp = await loadSharp();
      return { version: sharp.versions.vips };
    } catch {
      loaded = undefined;
      return null;
    }
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const [input] = job.inputs;
    if (!input) {
      throw new AppError('NO_INPUT_FILES');
    }
    const run = new VipsRun(await loadSharp(), job);
    const started = Date.now();
    let result: EngineResult;
    switch (job.operation) {
      case 'convert':
        result = { files: await convertImage(run, input, required(job.outputFormat)) };
        break;
      case 'thumbnail':
        result = { files: await thumbnailImage(run, input, required(job.outputFormat)) };
        break;
      case 'optimize': {
        const { file, message } = await optimizeImage(run, input);
        result = { files: [file], message };
        break;
      }
      case 'watermark':
        result = { files: await watermarkImage(run, input) };
        break;
      default:
        throw new AppError('INVALID_CONVERSION_TYPE', {
          message: `The vips engine does not run ${job.operation}.`,
        });
    }
    job.logger?.debug(
      {
        engine: this.name,
        operation: job.operation,
        input: input.format,
        output: job.outputFormat,
        files: result.files.length,
        durationMs: Date.now() - started,
      },
      'engine converted',
    );

    return result;
  }
}

function required(outputFormat: string | null): string {
  if (!outputFormat) {
    throw new AppError('INVALID_DATA', {
      errors: { output_format: ['The output format field is required.'] },
    });
  }

  return outputFormat.toLowerCase();
}
