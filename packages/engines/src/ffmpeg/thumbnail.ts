// Frames of a video as images: one at `timestamp`, or `count` spread from there to the end.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

import { AppError } from '@convertd/errors';

import type { EngineJob } from '../engine';
import { runProcess } from '../runner';
import { resizeFilters } from './filters';
import type { MediaProbe } from './probe';
import { fitOf, invalid, size } from './transcode';
import { formatSeconds, parseTime } from './time';

const IMAGE_CODECS: Readonly<Record<string, string[]>> = {
  png: ['-c:v', 'png'],
  // Full-range 4:2:0 is what JPEG decoders expect; q 2 is near the top of mjpeg's scale.
  jpg: ['-c:v', 'mjpeg', '-q:v', '2', '-pix_fmt', 'yuvj420p'],
  webp: ['-c:v', 'libwebp', '-quality', '85'],
};

export interface ThumbnailPlan {
  ffmpeg: string;
  input: string;
  outputDir: string;
  /** Stem of the written files. */
  stem: string;
  outputFormat: string;
  options: Record<string, unknown>;
  probe: MediaProbe;
  demuxers: string;
  threads: number;
}

/** Writes the frames; their paths in order. */
export async function writeThumbnails(plan: ThumbnailPlan, job: EngineJob): Promise<string[]> {
  const { probe, options } = plan;
  if (!probe.video) {
    throw new AppError('INVALID_CONVERSION_TYPE', { message: 'The file has no video track.' });
  }
  const codec = IMAGE_CODECS[plan.outputFormat];
  if (!codec) {
    throw new AppError('INVALID_CONVERSION_TYPE', {
      message: `Thumbnails are written as ${Object.keys(IMAGE_CODECS).join(', ')}.`,
    });
  }

  const times = frameTimes(options, probe.duration);
  const filters = resizeFilters({
    ...size(options),
    fit: fitOf(options),
    even: false,
    source: probe.video,
  });
  const deadlineAt = Date.now() + job.deadlineMs;
  const files: string[] = [];
  for (const [n, time] of times.entries()) {
    const output = join(
      plan.outputDir,
      times.length === 1
        ? `${plan.stem}.${plan.outputFormat}`
        : `${plan.stem}-${n + 1}.${plan.outputFormat}`,
    );
    // Seeking before -i jumps to the nearest keyframe and decodes up to the exact time.
    const args = [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-threads',
      String(plan.threads),
    ];
    args.push('-ss', formatSeconds(time));
    args.push('-protocol_whitelist', 'file', '-format_whitelist', plan.demuxers, '-i', plan.input);
    args.push('-map', '0:v:0', '-an', '-sn', '-dn', '-frames:v', '1');
    if (filters.length > 0) {
      args.push('-vf', filters.join(','));
    }
    args.push(...codec, '-f', 'image2', '-update', '1', output);
    await runProcess(plan.ffmpeg, args, {
      cwd: plan.outputDir,
      deadlineMs: deadlineAt - Date.now(),
      ...(job.signal === undefined ? {} : { signal: job.signal }),
      ...(job.logger === undefined ? {} : { logger: job.logger }),
    });
    const written = await stat(output).catch(() => null);
    if (!written || written.size === 0) {
      throw new AppError('ENGINE_FAILED', {
        message: `No frame could be decoded at ${formatSeconds(time)} s.`,
      });
    }
    files.push(output);
  }

  return files;
}

/** Seconds of each frame: `count` evenly spaced from `timestamp` (0) to the end. */
function frameTimes(options: Record<string, unknown>, duration: number | null): number[] {
  const start =
    options['timestamp'] === undefined ? 0 : parseTime(options['timestamp'], 'timestamp');
  const count = typeof options['count'] === 'number' ? options['count'] : 1;
  if (duration !== null && start >= duration) {
    throw invalid(
      'timestamp',
      `The timestamp is after the end of the video (${duration.toFixed(2)} s).`,
    );
  }
  if (count === 1) {
    return [start];
  }
  if (duration === null) {
    throw invalid('count', 'The video does not tell its duration, so only one frame can be taken.');
  }

  const step = (duration - start) / count;
  return Array.from({ length: count }, (_, i) => start + i * step);
}
