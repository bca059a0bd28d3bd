// One operation of the vips engine: sharp with our limits, the job's deadline and cancel signal,
// and the error mapping. libvips work cannot be interrupted from outside, so a cancelled or late
// step is abandoned: its result is dropped and its failure swallowed.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import type sharp from 'sharp';
import type { Sharp, SharpOptions } from 'sharp';

import { AppError, isAppError } from '@convertd/errors';

import type { EngineJob } from '../engine';

export type SharpModule = typeof sharp;

/** Who failed when a step fails: see `VipsRun.step`. */
export type Blame = 'input' | (() => Promise<unknown>);

/** Largest image (one page or frame) we decode: 100 megapixels, about 400 MB as RGBA. */
export const MAX_PIXELS = 100_000_000;
/** Largest sum over the frames or pages that are decoded at once (an animation, a TIFF to TIFF). */
export const MAX_TOTAL_PIXELS = 400_000_000;

export class VipsRun {
  private readonly deadlineAt: number;
  private scratchCount = 0;

  constructor(
    readonly sharp: SharpModule,
    readonly job: EngineJob,
  ) {
    this.deadlineAt = Date.now() + job.deadlineMs;
  }

  /** Milliseconds left; throws once the deadline passed or the job was cancelled. */
  remainingMs(): number {
    if (this.job.signal?.aborted === true) {
      throw new AppError('ENGINE_CANCELLED', { cause: this.job.signal.reason });
    }
    const left = this.deadlineAt - Date.now();
    if (left <= 0) {
      throw new AppError('ENGINE_TIMEOUT', { details: { engine: 'vips' } });
    }

    return left;
  }

  /** A pipeline on `input` with our limits; libvips stops it by itself at the deadline. */
  open(input: string | Buffer | Buffer[], options: SharpOptions = {}): Sharp {
    const seconds = Math.max(1, Math.ceil(this.remainingMs() / 1000));

    return this.sharp(input, {
      limitInputPixels: MAX_PIXELS,
      // Decoder warnings (stray bytes in a JPEG, a bad CRC in an ancillary PNG chunk) do not stop
      // a conversion, as they do not stop a browser; errors (a truncated file) do.
      failOn: 'error',
      ...options,
    }).timeout({ seconds });
  }

  /**
   * Awaits a libvips step. `blame` tells whose fault a failure is: 'input' for a step that only
   * reads the user's file; a decode probe for a pipeline that reads and writes (libvips reports
   * a truncated input as a failed write), run only after a failure; none for our own drawings.
   */
  async step<T>(work: Promise<T>, blame?: Blame): Promise<T> {
    // An abandoned step may still fail later; nobody listens to it then.
    work.catch(() => undefined);
    this.remainingMs();
    const signal = this.job.signal;
    let onAbort: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const stop = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(new AppError('ENGINE_CANCELLED', { cause: signal?.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });
      // sharp's own timeout covers the pipeline; this covers the rest (a slow metadata read).
      timer = setTimeout(
        () => reject(new AppError('ENGINE_TIMEOUT', { details: { engine: 'vips' } })),
        this.deadlineAt - Date.now(),
      );
    });
    try {
      return await Promise.race([work, stop]);
    } catch (err) {
      throw await this.mapFailure(err, blame);
    } finally {
      clearTimeout(timer);
      if (onAbort) {
        signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  private async mapFailure(err: unknown, blame: Blame | undefined): Promise<AppError> {
    if (isAppError(err) || blame === undefined || PIXEL_LIMIT.test(message(err))) {
      return mapError(err, false);
    }
    if (blame === 'input' || TIMED_OUT.test(message(err))) {
      return mapError(err, blame === 'input');
    }
    const decodes = await blame().then(
      () => true,
      () => false,
    );

    return mapError(err, !decodes);
  }

  /** A fresh path in the work dir, for files handed to external tools. */
  async scratch(name: string): Promise<string> {
    this.scratchCount += 1;
    const dir = join(this.job.workDir, `vips-${this.scratchCount}`);
    await mkdir(dir, { recursive: true });

    return join(dir, name);
  }
}

/** The refusal of an image above our pixel limits, for the user. */
export function tooLarge(width: number, height: number, pages = 1): AppError {
  const mp = (n: number) => `${Math.round(n / 1e5) / 10} megapixels`;
  const size = `${width}×${height} pixels${pages > 1 ? ` × ${pages} pages` : ''}`;
  const limit =
    pages > 1 ? `${mp(MAX_PIXELS)} per page and ${mp(MAX_TOTAL_PIXELS)} in all` : mp(MAX_PIXELS);
  const message = `The image is too large to process (${size}); the limit is ${limit}.`;

  return new AppError('INVALID_DATA', {
    message,
    errors: { input: [message] },
    details: { engine: 'vips', width, height, pages },
  });
}

// libvips reports failures as text only; the two we tell apart are matched here.
const PIXEL_LIMIT = /exceeds pixel limit/i;
const TIMED_OUT = /^timeout: \d+% complete/i;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A sharp failure as the AppError our callers expect; `corrupt` blames the user's file. */
export function mapError(err: unknown, corrupt: boolean): AppError {
  if (isAppError(err)) {
    return err;
  }
  const text = message(err);
  const details = { engine: 'vips', reason: text.slice(0, 500) };
  if (PIXEL_LIMIT.test(text)) {
    const message = `The image is too large to process; the limit is ${MAX_PIXELS / 1e6} megapixels.`;

    return new AppError('INVALID_DATA', { message, errors: { input: [message] }, details });
  }
  if (TIMED_OUT.test(text)) {
    return new AppError('ENGINE_TIMEOUT', { details });
  }
  if (corrupt) {
    return new AppError('INPUT_CORRUPT', {
      message: 'The image is damaged or not of the type it claims to be.',
      cause: err,
      details,
    });
  }

  return new AppError('ENGINE_FAILED', { cause: err, details });
}
