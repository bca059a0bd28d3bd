// ExifTool adapter: every tag of a file as `result.metadata`, and tags written into a copy.
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';

import { EXIFTOOL, EXIFTOOL_MAX_TAG_NAME } from '@convertd/api';
import { AppError } from '@convertd/errors';

import type { Engine, EngineInput, EngineJob, EngineResult } from '../engine';
import { invalidOption } from '../option-values';
import { runProcess, type RunProcessOptions } from '../runner';

const DETECT_DEADLINE_MS = 15_000;
/** Tags about our copy of the file (its place and times on our disk), not about the file. */
const OUR_TAGS = new Set([
  'SourceFile',
  'Directory',
  'FileModifyDate',
  'FileAccessDate',
  'FileInodeChangeDate',
  'FilePermissions',
]);
/** `Tag` or `Group:Tag`: nothing that ExifTool would read as another option or a redirection. */
const TAG_NAME = new RegExp(
  `^(?:[A-Za-z][A-Za-z0-9-]{0,31}:)?[A-Za-z][A-Za-z0-9_]{0,${EXIFTOOL_MAX_TAG_NAME - 1}}$`,
);
/**
 * ExifTool's pseudo-tags that act on the file system instead of the file (move, rename, link,
 * chmod it) or read other files (Geotag's GPS track): never written on a user's behalf.
 */
const SYSTEM_TAGS =
  /^(?:filename|directory|testname|hardlink|symlink|filepermissions|fileuserid|filegroupid|filecreatedate|filemodifydate|fileaccessdate|fileinodechangedate|fileattributes|geo(?:tag|sync|time|location\w*))$/i;
const MAX_VALUE_LENGTH = 10_000;
/** Largest JSON of one file we parse. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;
// ExifTool exits 0 on these: the tag is skipped and the copy keeps the old value.
const UNKNOWN_TAG = /Tag '([^']+)' (?:is not defined|does not exist)/g;
const NOT_WRITABLE = /Sorry, (\S+) is not writable/g;
const NOT_VALID = /Not a valid|File format error|Unknown file type|Can't write/;

export interface ExifToolEngineOptions {
  /** Default `exiftool` from PATH. */
  binary?: string;
}

export class ExifToolEngine implements Engine {
  readonly name = 'exiftool';
  readonly spec = EXIFTOOL;
  private readonly binary: string;
  private version: Promise<string | null> | undefined;

  constructor(options: ExifToolEngineOptions = {}) {
    this.binary = options.binary ?? 'exiftool';
  }

  async detect(): Promise<{ version: string } | null> {
    this.version ??= runProcess(this.binary, ['-ver'], {
      cwd: tmpdir(),
      deadlineMs: DETECT_DEADLINE_MS,
    }).then(
      ({ stdout }) => /^\d+(?:\.\d+)+/.exec(stdout.trim())?.[0] ?? null,
      () => null,
    );
    const version = await this.version;

    return version === null ? null : { version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const [input] = job.inputs;
    if (!input) {
      throw new AppError('NO_INPUT_FILES');
    }

    switch (job.operation) {
      case 'metadata':
        return { files: [], metadata: await this.read(input, job) };
      case 'metadata/write':
        return { files: [await this.write(input, job)] };
      default:
        throw new AppError('INVALID_CONVERSION_TYPE', {
          message: `ExifTool does not run ${job.operation}.`,
        });
    }
  }

  private async read(input: EngineInput, job: EngineJob): Promise<Record<string, unknown>> {
    // The JSON goes to a file: the runner keeps only the last 64 KB of what a program prints.
    // ExifTool names it after the input (%f, its name without the extension).
    const target = join(job.workDir, `${basename(input.path, extname(input.path))}.json`);
    const result = await runProcess(
      this.binary,
      ['-json', '-w!', `${job.workDir.replace(/%/g, '%%')}/%f.json`, input.path],
      // 1: ExifTool read the file but did not recognise its type; the JSON says so.
      { ...this.processOptions(job), okExitCodes: [0, 1] },
    );
    const text = await readFile(target, 'utf8').catch(() => '');
    if (text === '' || text.length > MAX_JSON_BYTES) {
      throw new AppError('ENGINE_FAILED', {
        message: 'ExifTool could not read the file.',
        details: { engine: this.name, stderrTail: result.stderr.slice(-4096) },
      });
    }

    const [tags] = JSON.parse(text) as Record<string, unknown>[];
    return clean(tags ?? {}, input);
  }

  private async write(input: EngineInput, job: EngineJob): Promise<string> {
    const tags = tagArguments(job.options['metadata']);
    const output = join(job.outputDir, basename(input.path));
    const run = await runProcess(this.binary, [...tags.args, '-o', output, input.path], {
      ...this.processOptions(job),
      okExitCodes: [0, 1],
    });
    const unknown = [
      ...[...run.stderr.matchAll(UNKNOWN_TAG)].map(
        (m) => `${m[1] ?? ''} is not a tag ExifTool knows.`,
      ),
      ...[...run.stderr.matchAll(NOT_WRITABLE)].map((m) => `${m[1] ?? ''} cannot be written.`),
    ];
    if (unknown.length > 0) {
      throw invalidOption('metadata', ...unknown);
    }
    if (run.exitCode !== 0) {
      const reason =
        run.stderr.replaceAll(input.path, input.filename).trim().split('\n').pop() ?? '';
      throw new AppError(NOT_VALID.test(reason) ? 'INPUT_CORRUPT' : 'ENGINE_FAILED', {
        message: `ExifTool could not write the tags: ${reason.replace(/^Error: /, '')}`,
        details: { engine: this.name, stderrTail: run.stderr.slice(-4096) },
      });
    }

    return output;
  }

  private processOptions(job: EngineJob): RunProcessOptions {
    return {
      cwd: job.workDir,
      // No ~/.ExifTool_config of the worker's user: tags mean what ExifTool's own tables say.
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: job.workDir, LANG: 'C.UTF-8' },
      inheritEnv: false,
      deadlineMs: job.deadlineMs,
      ...(job.signal === undefined ? {} : { signal: job.signal }),
      ...(job.logger === undefined ? {} : { logger: job.logger }),
    };
  }
}

/** `-TAG=value` arguments; INVALID_DATA naming `metadata` for a name or value we do not pass on. */
function tagArguments(raw: unknown): { args: string[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidOption('metadata', 'The metadata must be an object.');
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) {
    throw invalidOption('metadata', 'Give at least one tag to write.');
  }

  const errors: string[] = [];
  const args: string[] = [];
  for (const [name, value] of entries) {
    if (!TAG_NAME.test(name)) {
      errors.push(`${name.slice(0, 80)} is not a tag name (letters, digits and underscores).`);
      continue;
    }
    if (SYSTEM_TAGS.test(name.split(':').pop() ?? '')) {
      errors.push(`${name} is about the file on our disk, not in it, and cannot be written.`);
      continue;
    }
    if (value !== null && typeof value === 'object') {
      errors.push(`The value of ${name} must be a string or a number.`);
      continue;
    }
    const text =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : '';
    if (text.length > MAX_VALUE_LENGTH) {
      errors.push(`The value of ${name} is longer than ${MAX_VALUE_LENGTH} characters.`);
      continue;
    }
    // One argv element: the name is checked, so the value can never become an option.
    args.push(`-${name}=${text}`);
  }
  if (errors.length > 0) {
    throw invalidOption('metadata', ...errors);
  }

  return { args };
}

/** ExifTool's tags without our file system's, lists joined, our paths replaced by the file name. */
function clean(tags: Record<string, unknown>, input: EngineInput): Record<string, unknown> {
  const dir = dirname(input.path);
  const hide = (text: string) => text.replaceAll(input.path, input.filename).replaceAll(dir, '');
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(tags)) {
    if (OUR_TAGS.has(name)) {
      continue;
    }
    if (name === 'FileName') {
      out[name] = input.filename;
    } else if (Array.isArray(value)) {
      // Clients read result.metadata as a map of strings (Java's SDK); lists become one string.
      out[name] = hide(value.map(String).join(', '));
    } else if (typeof value === 'string') {
      out[name] = hide(value);
    } else if (value !== null && typeof value === 'object') {
      out[name] = hide(JSON.stringify(value));
    } else {
      out[name] = value;
    }
  }

  return out;
}
