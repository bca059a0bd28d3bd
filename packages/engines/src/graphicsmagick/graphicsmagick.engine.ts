// GraphicsMagick adapter: `gm convert` for common raster pairs when asked for by name, and the
// `command` operation's `gm`. GraphicsMagick has no security policy: commands are checked
// harder (sub-commands, limits, script-like inputs).
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';

import { GRAPHICSMAGICK } from '@convertd/api';
import { AppError } from '@convertd/errors';

import { refused, splitArguments } from '../command/arguments';
import { mapArgument } from '../command/guard';
import { prepareSandbox, runSandboxed } from '../command/sandbox';
import type { Engine, EngineJob, EngineResult } from '../engine';
import { asText, invalidOption } from '../option-values';
import { runProcess } from '../runner';
import {
  ANIMATED,
  coderOf,
  LIMITS,
  looksLikeScript,
  MAGICK_RULES,
  runError,
  transformArgs,
} from '../imagemagick/magick';

const DETECT_DEADLINE_MS = 15_000;
const MIB = 1024 * 1024;
/** `gm` sub-commands a command may run; batch, conjure (MSL), display, import and the like not. */
const SUB_COMMANDS = new Set([
  'version',
  'help',
  'convert',
  'identify',
  'composite',
  'compare',
  'mogrify',
  'montage',
]);

export interface GraphicsMagickEngineOptions {
  /** Default `gm` from PATH. */
  binary?: string;
}

export class GraphicsMagickEngine implements Engine {
  readonly name = 'graphicsmagick';
  readonly spec = GRAPHICSMAGICK;
  private readonly binary: string;
  private version: Promise<string | null> | undefined;

  constructor(options: GraphicsMagickEngineOptions = {}) {
    this.binary = options.binary ?? 'gm';
  }

  async detect(): Promise<{ version: string } | null> {
    this.version ??= runProcess(this.binary, ['version'], {
      cwd: tmpdir(),
      deadlineMs: DETECT_DEADLINE_MS,
    }).then(
      // "GraphicsMagick 1.3.40 2023-01-14 Q16 ..."
      ({ stdout }) => /GraphicsMagick (\d+(?:\.\d+)+)/.exec(stdout)?.[1] ?? null,
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
          message: `GraphicsMagick does not run ${job.operation}.`,
        });
    }
  }

  private async convert(job: EngineJob): Promise<EngineResult> {
    const [input] = job.inputs;
    if (!input || !job.outputFormat) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: 'GraphicsMagick needs an input file.',
      });
    }

    const keepFrames = ANIMATED.has(input.format) && ANIMATED.has(job.outputFormat);
    const stem = basename(input.path, extname(input.path)) || 'output';
    const output = join(job.outputDir, `${stem}.${job.outputFormat}`);
    const args = [
      'convert',
      ...limitArgs(),
      // The explicit format: GraphicsMagick never guesses it from the content.
      `${coderOf(input.format)}:${input.path}${keepFrames ? '' : '[0]'}`,
      ...(keepFrames ? ['-coalesce'] : []),
      ...transformArgs(job.options, job.outputFormat),
      ...(job.outputFormat === 'jpg' ? ['-background', 'white', '-flatten'] : []),
      `${coderOf(job.outputFormat)}:${output}`,
    ];
    try {
      await runProcess(this.binary, args, {
        cwd: job.workDir,
        env: environment(job.workDir),
        inheritEnv: false,
        deadlineMs: job.deadlineMs,
        ...(job.signal === undefined ? {} : { signal: job.signal }),
        ...(job.logger === undefined ? {} : { logger: job.logger }),
      });
    } catch (err) {
      throw runError(this.name, err);
    }

    const written = await readdir(job.outputDir);
    if (written.length === 0) {
      throw new AppError('ENGINE_FAILED', { message: 'GraphicsMagick wrote no image.' });
    }

    return { files: written.sort().map((name) => join(job.outputDir, name)) };
  }

  private async command(job: EngineJob): Promise<EngineResult> {
    if (job.options['command'] !== 'gm') {
      throw invalidOption('command', 'The command must be gm.');
    }

    const userArgs = splitArguments(asText(job.options['arguments']));
    const [sub] = userArgs;
    if (sub === undefined || !SUB_COMMANDS.has(sub)) {
      throw refused(`The first argument must be one of: ${[...SUB_COMMANDS].join(', ')}.`);
    }
    if (userArgs.some((arg) => /^[-+]limit$/i.test(arg))) {
      throw refused('The resource limits of this server cannot be changed.');
    }
    for (const input of job.inputs) {
      if (await looksLikeScript(input.path)) {
        throw refused(
          `${input.filename} looks like SVG, MSL, MVG or PostScript, which commands cannot read.`,
        );
      }
    }

    const sandbox = await prepareSandbox(job);
    const args = userArgs.map((arg) => mapArgument(arg, sandbox, MAGICK_RULES));

    return runSandboxed(job, sandbox, {
      command: 'gm',
      file: this.binary,
      args,
      env: environment(sandbox.tmp),
      capture: job.options['capture_output'] === true,
    });
  }
}

function environment(workDir: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: workDir,
    LANG: 'C.UTF-8',
    MAGICK_TMPDIR: workDir,
    MAGICK_LIMIT_MEMORY: `${LIMITS.memory / MIB}MB`,
    MAGICK_LIMIT_MAP: `${LIMITS.map / MIB}MB`,
    MAGICK_LIMIT_DISK: `${LIMITS.disk / MIB}MB`,
    MAGICK_LIMIT_PIXELS: String(LIMITS.area),
    MAGICK_LIMIT_WIDTH: String(LIMITS.side),
    MAGICK_LIMIT_HEIGHT: String(LIMITS.side),
    OMP_NUM_THREADS: String(LIMITS.threads),
  };
}

function limitArgs(): string[] {
  return [
    '-limit',
    'memory',
    `${LIMITS.memory / MIB}MB`,
    '-limit',
    'map',
    `${LIMITS.map / MIB}MB`,
    '-limit',
    'disk',
    `${LIMITS.disk / MIB}MB`,
    '-limit',
    'pixels',
    String(LIMITS.area),
    '-limit',
    'width',
    String(LIMITS.side),
    '-limit',
    'height',
    String(LIMITS.side),
    '-limit',
    'threads',
    String(LIMITS.threads),
  ];
}
