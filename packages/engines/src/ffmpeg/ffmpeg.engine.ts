// FFmpeg adapter: video and audio conversions, video thumbnails, and the `command` operation.
import { availableParallelism, tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';

import { FFMPEG } from '@convertd/api';
import { AppError } from '@convertd/errors';

import { splitArguments } from '../command/arguments';
import { prepareSandbox, runSandboxed } from '../command/sandbox';
import type { Engine, EngineJob, EngineResult } from '../engine';
import { asText, invalidOption } from '../option-values';
import { runProcess } from '../runner';
import { commandArgs, UNSAFE_DEMUXERS } from './command';
import { probeMedia } from './probe';
import { writeThumbnails } from './thumbnail';
import { transcodeArgs } from './transcode';

const DETECT_DEADLINE_MS = 15_000;
/** Threads per conversion: the worker runs one conversion per core already. */
const MAX_THREADS = 2;

export interface FfmpegEngineOptions {
  /** Default `ffmpeg` from PATH. */
  ffmpeg?: string;
  /** Default `ffprobe` from PATH. */
  ffprobe?: string;
}

interface Tools {
  version: string;
  encoders: ReadonlySet<string>;
  /** `-format_whitelist` of conversions: demuxers that read only the file they are given. */
  demuxers: string;
  /** The same plus lavfi (test sources and filter graphs) for commands. */
  commandDemuxers: string;
}

export class FfmpegEngine implements Engine {
  readonly name = 'ffmpeg';
  readonly spec = FFMPEG;
  private readonly ffmpeg: string;
  private readonly ffprobe: string;
  private readonly threads = Math.max(1, Math.min(MAX_THREADS, availableParallelism()));
  private tools: Promise<Tools | null> | undefined;

  constructor(options: FfmpegEngineOptions = {}) {
    this.ffmpeg = options.ffmpeg ?? 'ffmpeg';
    this.ffprobe = options.ffprobe ?? 'ffprobe';
  }

  async detect(): Promise<{ version: string } | null> {
    this.tools ??= this.inspect();
    const tools = await this.tools;

    return tools === null ? null : { version: tools.version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    this.tools ??= this.inspect();
    const tools = await this.tools;
    if (tools === null) {
      throw new AppError('ENGINE_UNAVAILABLE', { message: 'FFmpeg is not installed here.' });
    }

    switch (job.operation) {
      case 'convert':
        return this.convert(job, tools);
      case 'thumbnail':
        return this.thumbnail(job, tools);
      case 'command':
        return this.command(job, tools);
      default:
        throw new AppError('INVALID_CONVERSION_TYPE', {
          message: `FFmpeg does not run ${job.operation}.`,
        });
    }
  }

  private async convert(job: EngineJob, tools: Tools): Promise<EngineResult> {
    const [input] = job.inputs;
    if (!input || !job.outputFormat) {
      throw new AppError('INVALID_CONVERSION_TYPE', { message: 'FFmpeg needs an input file.' });
    }

    const deadlineAt = Date.now() + job.deadlineMs;
    const probe = await probeMedia(this.ffprobe, input.path, tools.demuxers, job);
    const output = join(job.outputDir, `${stemOf(input.path)}.${job.outputFormat}`);
    const args = transcodeArgs({
      input: input.path,
      output,
      outputFormat: job.outputFormat,
      options: job.options,
      probe,
      encoders: tools.encoders,
      demuxers: tools.demuxers,
      threads: this.threads,
    });
    const run = await runProcess(this.ffmpeg, args, {
      cwd: job.workDir,
      deadlineMs: deadlineAt - Date.now(),
      ...(job.signal === undefined ? {} : { signal: job.signal }),
      ...(job.logger === undefined ? {} : { logger: job.logger }),
    });
    job.logger?.debug({ engine: this.name, durationMs: run.durationMs }, 'engine converted');

    return { files: [output] };
  }

  private async thumbnail(job: EngineJob, tools: Tools): Promise<EngineResult> {
    const [input] = job.inputs;
    if (!input || !job.outputFormat) {
      throw new AppError('INVALID_CONVERSION_TYPE', { message: 'FFmpeg needs an input file.' });
    }

    const deadlineAt = Date.now() + job.deadlineMs;
    const probe = await probeMedia(this.ffprobe, input.path, tools.demuxers, job);
    const files = await writeThumbnails(
      {
        ffmpeg: this.ffmpeg,
        input: input.path,
        outputDir: job.outputDir,
        stem: stemOf(input.path),
        outputFormat: job.outputFormat,
        options: job.options,
        probe,
        demuxers: tools.demuxers,
        threads: this.threads,
      },
      { ...job, deadlineMs: deadlineAt - Date.now() },
    );

    return { files };
  }

  private async command(job: EngineJob, tools: Tools): Promise<EngineResult> {
    const command = job.options['command'];
    if (command !== 'ffmpeg' && command !== 'ffprobe') {
      throw invalidOption('command', 'The command must be ffmpeg or ffprobe.');
    }

    const userArgs = splitArguments(asText(job.options['arguments']));
    const sandbox = await prepareSandbox(job);

    return runSandboxed(job, sandbox, {
      command,
      file: command === 'ffmpeg' ? this.ffmpeg : this.ffprobe,
      args: commandArgs(command, userArgs, sandbox, tools.commandDemuxers),
      env: {},
      capture: job.options['capture_output'] === true,
    });
  }

  /** Version, encoders and demuxers of the installed ffmpeg; null when it or ffprobe is missing. */
  private async inspect(): Promise<Tools | null> {
    const run = (file: string, args: string[]) =>
      runProcess(file, args, { cwd: tmpdir(), deadlineMs: DETECT_DEADLINE_MS });
    try {
      const [version, encoders, demuxers] = await Promise.all([
        run(this.ffmpeg, ['-hide_banner', '-version']),
        run(this.ffmpeg, ['-hide_banner', '-encoders']),
        run(this.ffmpeg, ['-hide_banner', '-demuxers']),
        run(this.ffprobe, ['-hide_banner', '-version']),
      ]);
      // "ffmpeg version 5.1.9-0+deb12u1 Copyright ..." or "ffmpeg version n6.1 ..."
      const number = /ffmpeg version n?(\d+(?:\.\d+)+)/.exec(version.stdout)?.[1];
      if (number === undefined) {
        return null;
      }

      const names = listed(demuxers.stdout).filter(
        (name) => !name.split(',').some((part) => UNSAFE_DEMUXERS.has(part)),
      );

      return {
        version: number,
        encoders: new Set(listed(encoders.stdout)),
        demuxers: names.filter((name) => name !== 'lavfi').join(','),
        commandDemuxers: names.join(','),
      };
    } catch {
      return null;
    }
  }
}

/** Names in ffmpeg's `-encoders` / `-demuxers` tables (the word after the flags column). */
function listed(table: string): string[] {
  const rows = table.split('\n');
  const start = rows.findIndex((row) => /^\s*-+\s*$/.test(row));

  return rows
    .slice(start + 1)
    .map((row) => /^\s*[A-Z.]+\s+(\S+)/.exec(row)?.[1])
    .filter((name): name is string => name !== undefined);
}

function stemOf(path: string): string {
  return basename(path, extname(path)) || 'output';
}
