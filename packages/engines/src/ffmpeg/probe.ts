// What a media file holds, read with ffprobe before it is converted.
import { tmpdir } from 'node:os';

import { AppError, isAppError } from '@convertd/errors';

import type { EngineJob } from '../engine';
import { runProcess } from '../runner';

export interface MediaProbe {
  /** Seconds; null when the container does not say. */
  duration: number | null;
  video: { codec: string; width: number; height: number } | null;
  audio: { codec: string } | null;
}

interface RawStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  disposition?: { attached_pic?: number };
}

/**
 * Probes `path`, opening it only as a local file with one of `demuxers`; INPUT_CORRUPT when
 * ffprobe cannot read it.
 */
export async function probeMedia(
  ffprobe: string,
  path: string,
  demuxers: string,
  job: EngineJob,
): Promise<MediaProbe> {
  let stdout: string;
  try {
    ({ stdout } = await runProcess(
      ffprobe,
      [
        '-v',
        'error',
        '-hide_banner',
        '-protocol_whitelist',
        'file',
        '-format_whitelist',
        demuxers,
        '-show_entries',
        'format=duration:stream=codec_type,codec_name,width,height:stream_disposition=attached_pic',
        '-of',
        'json',
        path,
      ],
      {
        cwd: tmpdir(),
        deadlineMs: job.deadlineMs,
        ...(job.signal === undefined ? {} : { signal: job.signal }),
        ...(job.logger === undefined ? {} : { logger: job.logger }),
      },
    ));
  } catch (err) {
    if (isAppError(err) && err.code === 'ENGINE_FAILED') {
      throw new AppError('INPUT_CORRUPT', {
        message: 'The file could not be read as audio or video.',
        cause: err,
        details: err.details,
      });
    }
    throw err;
  }

  const parsed = JSON.parse(stdout) as {
    streams?: RawStream[];
    format?: { duration?: string };
  };
  const streams = parsed.streams ?? [];
  // Cover art of audio files shows up as a one-frame video stream.
  const video = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const audio = streams.find((s) => s.codec_type === 'audio');
  const duration = Number(parsed.format?.duration);

  return {
    duration: Number.isFinite(duration) && duration > 0 ? duration : null,
    video:
      video && video.width !== undefined && video.height !== undefined
        ? { codec: video.codec_name ?? 'unknown', width: video.width, height: video.height }
        : null,
    audio: audio ? { codec: audio.codec_name ?? 'unknown' } : null,
  };
}
