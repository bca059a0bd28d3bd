// ImageMagick 6 adapter: raster conversions for the formats libvips lacks, and the `command`
// operation's convert and identify. Always /usr/bin/convert: another `convert` may come first on
// PATH (TOOLCHAIN.md §6).
import { mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';

import { IMAGEMAGICK } from '@convertd/api';
import { AppError } from '@convertd/errors';

import { splitArguments } from '../command/arguments';
import { mapArgument } from '../command/guard';
import { prepareSandbox, runSandboxed } from '../command/sandbox';
import type { Engine, EngineInput, EngineJob, EngineResult } from '../engine';
import { asText, invalidOption } from '../option-values';
import { runProcess, type RunProcessOptions } from '../runner';
import { ANIMATED, coderOf, LIMITS, MAGICK_RULES, runError, transformArgs } from './magick';
import { ensurePolicy } from './policy';

const DETECT_DEADLINE_MS = 15_000;
const MIB = 1024 * 1024;

export interface ImageMagickEngineOptions {
  /** Default /usr/bin/convert. */
  convert?: string;
  /** Default /usr/bin/identify. */
  identify?: string;
  /** Where our policy.xml is written; default under the system temp dir. */
  configDir?: string;
}

export class ImageMagickEngine implements Engine {
  readonly name = 'imagemagick';
  readonly spec = IMAGEMAGICK;
  private readonly convertBin: string;
  private readonly identifyBin: string;
  private readonly configDir: string;
  private version: Promise<string | null> | undefined;

  constructor(options: ImageMagickEngineOptions = {}) {
    this.convertBin = options.convert ?? '/usr/bin/convert';
    this.identifyBin = options.identify ?? '/usr/bin/identify';
    this.configDir = options.configDir ?? join(tmpdir(), 'convertd-imagemagick');
  }

  async detect(): Promise<{ version: string } | null> {
    this.version ??= runProcess(this.convertBin, ['-version'], {
      cwd: tmpdir(),
      deadlineMs: DETECT_DEADLINE_MS,
    }).then(
      // "Version: ImageMagick 6.9.11-60 Q16 x86_64 ..."
      ({ stdout }) => /ImageMagick (\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? null,
      () => null,
    );
    const version = await this.version;

    return version === null ? null : { version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    switch (job.operation) {
      case 'convert':
        return this.convert(job);
      case 'command':
        return this.command(job);
      default:
        throw new AppError('INVALID_CONVERSION_TYPE', {
          message: `ImageMagick does not run ${job.operation}.`,
        });
    }
  }

  private async convert(job: EngineJob): Promise<EngineResult> {
    const [input] = job.inputs;
    if (!input || !job.outputFormat) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: 'ImageMagick needs an input file.',
      });
    }

    const deadlineAt = Date.now() + job.deadlineMs;
    const env = await this.environment(job.workDir);
    const frame = await this.frameOf(
      input,
      job.outputFormat,
      { ...job, deadlineMs: deadlineAt - Date.now() },
      env,
    );
    const stem = basename(input.path, extname(input.path)) || 'output';
    const output = join(job.outputDir, `${stem}.${job.outputFormat}`);
    const args = [
      ...limitArgs(job.deadlineMs),
      `${coderOf(input.format)}:${input.path}${frame}`,
      // Frames of an animation may be partial: each becomes whole before it is resized.
      ...(frame === '' ? ['-coalesce'] : []),
      ...transformArgs(job.options, job.outputFormat),
      ...(job.outputFormat === 'jpg'
        ? ['-background', 'white', '-alpha', 'remove', '-alpha', 'off']
        : []),
      `${coderOf(job.outputFormat)}:${output}`,
    ];
    try {
      await runProcess(this.convertBin, args, this.processOptions(job, env, deadlineAt));
    } catch (err) {
      throw runError(this.name, err);
    }

    const written = (await readdir(job.outputDir)).sort((a, b) =>
      a.localeCompare(b, 'en', { numeric: true }),
    );
    if (written.length === 0) {
      throw new AppError('ENGINE_FAILED', { message: 'ImageMagick wrote no image.' });
    }

    return { files: written.map((name) => join(job.outputDir, name)) };
  }

  /**
   * The frame to read: every frame for animations kept as such, the largest entry of an icon,
   * else the first image (a TIFF's first page, a PSD's composite).
   */
  private async frameOf(
    input: EngineInput,
    outputFormat: string,
    job: EngineJob,
    env: Record<string, string>,
  ): Promise<string> {
    if (ANIMATED.has(input.format) && ANIMATED.has(outputFormat)) {
      return '';
    }
    if (input.format !== 'ico') {
      return '[0]';
    }

    const deadlineAt = Date.now() + job.deadlineMs;
    try {
      const { stdout } = await runProcess(
        this.identifyBin,
        [...limitArgs(job.deadlineMs), '-format', '%w %h\n', `ICO:${input.path}`],
        this.processOptions(job, env, deadlineAt),
      );
      const areas = stdout
        .trim()
        .split('\n')
        .map((line) => line.split(' ').map(Number))
        .map(([w = 0, h = 0]) => w * h);
      const largest = areas.indexOf(Math.max(...areas));

      return `[${Math.max(0, largest)}]`;
    } catch (err) {
      throw runError(this.name, err);
    }
  }

  private async command(job: EngineJob): Promise<EngineResult> {
    const command = job.options['command'];
    if (command !== 'convert' && command !== 'identify') {
      throw invalidOption('command', 'The command must be convert or identify.');
    }

    const userArgs = splitArguments(asText(job.options['arguments']));
    const sandbox = await prepareSandbox(job);
    const args = userArgs.map((arg) => mapArgument(arg, sandbox, MAGICK_RULES));
    const env = await this.environment(sandbox.tmp);

    return runSandboxed(job, sandbox, {
      command,
      file: command === 'convert' ? this.convertBin : this.identifyBin,
      args,
      env,
      capture: job.options['capture_output'] === true,
      hidden: [[this.configDir, '/etc/convertd/imagemagick']],
    });
  }

  /** Our policy beside the system's, the limits, and temp files in the run's own directory. */
  private async environment(workDir: string): Promise<Record<string, string>> {
    const policyDir = await ensurePolicy(this.configDir);
    const temp = join(workDir, 'magick-tmp');
    await mkdir(temp, { recursive: true });

    return {
      MAGICK_CONFIGURE_PATH: policyDir,
      MAGICK_TEMPORARY_PATH: temp,
      MAGICK_MEMORY_LIMIT: `${LIMITS.memory / MIB}MiB`,
      MAGICK_MAP_LIMIT: `${LIMITS.map / MIB}MiB`,
      MAGICK_DISK_LIMIT: `${LIMITS.disk / MIB}MiB`,
      MAGICK_AREA_LIMIT: String(LIMITS.area),
      MAGICK_WIDTH_LIMIT: String(LIMITS.side),
      MAGICK_HEIGHT_LIMIT: String(LIMITS.side),
      MAGICK_THREAD_LIMIT: String(LIMITS.threads),
    };
  }

  private processOptions(
    job: EngineJob,
    env: Record<string, string>,
    deadlineAt: number,
  ): RunProcessOptions {
    return {
      cwd: job.workDir,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: job.workDir,
        LANG: 'C.UTF-8',
        ...env,
      },
      inheritEnv: false,
      deadlineMs: deadlineAt - Date.now(),
      ...(job.signal === undefined ? {} : { signal: job.signal }),
      ...(job.logger === undefined ? {} : { logger: job.logger }),
    };
  }
}

/** The same limits as arguments, and a time limit a little under the deadline. */
function limitArgs(deadlineMs: number): string[] {
  return [
    '-limit',
    'memory',
    `${LIMITS.memory / MIB}MiB`,
    '-limit',
    'map',
    `${LIMITS.map / MIB}MiB`,
    '-limit',
    'disk',
    `${LIMITS.disk / MIB}MiB`,
    '-limit',
    'area',
    String(LIMITS.area),
    '-limit',
    'width',
    String(LIMITS.side),
    '-limit',
    'height',
    String(LIMITS.side),
    '-limit',
    'thread',
    String(LIMITS.threads),
    '-limit',
    'time',
    String(Math.max(1, Math.floor(deadlineMs / 1000))),
  ];
}
