// Helpers of the media engine tests: a generated test video, one run of an engine in fresh
// directories, and reading outputs back with ffprobe and exiftool.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { Engine, EngineInput, EngineResult } from '../src/engine';
import { CORPUS, engineJob } from './support';

export { inputOf } from './support';

const exec = promisify(execFile);

export const IMAGES = join(CORPUS, 'image');

/** A 3 s, 320x240, 10 fps H.264 + AAC video of ffmpeg's test pattern and a sine tone. */
export async function makeVideo(dir: string, name = 'video.mp4'): Promise<string> {
  const path = join(dir, name);
  await exec('ffmpeg', [
    '-nostdin',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=3:size=320x240:rate=10',
    '-f',
    'lavfi',
    '-i',
    'sine=duration=3',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    '-y',
    path,
  ]);

  return path;
}

export interface RunOptions {
  operation: string;
  inputs: EngineInput[];
  outputFormat?: string | null;
  options?: Record<string, unknown>;
  deadlineMs?: number;
}

/** Runs `engine` once with a work dir and output dir of its own under `root`. */
export async function runEngine(
  engine: Engine,
  root: string,
  run: RunOptions,
): Promise<EngineResult & { workDir: string; outputDir: string }> {
  const job = await engineJob(root, {
    operation: run.operation,
    inputs: run.inputs,
    outputFormat: run.outputFormat ?? null,
    options: run.options ?? {},
    deadlineMs: run.deadlineMs ?? 60_000,
  });
  const result = await engine.run(job);
  const { workDir, outputDir } = job;

  return { ...result, workDir, outputDir };
}

export interface Probed {
  format: { format_name: string; duration?: string };
  streams: {
    codec_type: string;
    codec_name: string;
    width?: number;
    height?: number;
    channels?: number;
    sample_rate?: string;
    bit_rate?: string;
    nb_read_frames?: string;
  }[];
}

/** ffprobe's view of a file; `countFrames` decodes it to count the video frames. */
export async function probe(file: string, countFrames = false): Promise<Probed> {
  const { stdout } = await exec('ffprobe', [
    '-v',
    'error',
    ...(countFrames ? ['-count_frames'] : []),
    '-show_entries',
    'format=format_name,duration:stream=codec_type,codec_name,width,height,channels,sample_rate,bit_rate,nb_read_frames',
    '-of',
    'json',
    file,
  ]);

  return JSON.parse(stdout) as Probed;
}

export function streamOf(probed: Probed, type: 'video' | 'audio') {
  return probed.streams.find((s) => s.codec_type === type);
}

/** ExifTool's tags of a file, as numbers where it can (-n). */
export async function exifOf(file: string, ...tags: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await exec('exiftool', ['-json', '-n', ...tags.map((t) => `-${t}`), file]);

  return (JSON.parse(stdout) as Record<string, unknown>[])[0] ?? {};
}
