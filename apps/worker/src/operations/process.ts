// Every processing operation (convert, optimize, merge, capture-website, ...): choose the engine,
// fetch the inputs into the work dir, run the engine, store what it wrote.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

import {
  canonicalEngine,
  checkOptions,
  chooseRow,
  COMMON_KEYS,
  extensionOf,
  optionsFor,
  PROCESSING_OPERATIONS,
  type CatalogueRow,
  unsupportedMessage,
} from '@convertd/api';
import type { InputFile } from '@convertd/db';
import { unlockPdf, type EngineInput, type EngineResult } from '@convertd/engines';
import { AppError } from '@convertd/errors';

import type { DetectedEngine } from '../context';
import type { OperationOutput, OperationRun } from './index';
import { outputName } from './naming';

type Payload = Record<string, unknown>;

export async function runProcessing(run: OperationRun): Promise<OperationOutput> {
  const { task } = run;
  const payload = task.payload as Payload;
  const mode = PROCESSING_OPERATIONS[task.operation] ?? 'each';
  const outputFormat = formatField(payload.output_format);
  const all = await fetchInputs(run);
  // Files of a task that an option names (the watermark `image`) are not processed themselves.
  const ref = assetReference(task.operation, payload);
  const assets = ref ? all.filter((i) => i.source === ref.name || i.sourceTaskId === ref.name) : [];
  if (ref && assets.length === 0) {
    throw new AppError('INVALID_DATA', {
      errors: { [ref.field]: [`The ${ref.field} must name an input task that has a file.`] },
    });
  }
  const own = all.filter((i) => !assets.includes(i)).map(({ sourceTaskId: _s, ...rest }) => rest);
  // An unsupported pair is told before anything reads the files (a PDF's password, say).
  for (const input of mode === 'each' ? own.filter((i) => !isPageAsset(i, own)) : own.slice(0, 1)) {
    pick(run, formatField(payload.input_format) ?? input.format, outputFormat);
  }
  const inputs: EngineInput[] = await unlockPdfs(run, own);
  if (mode !== 'none' && task.operation !== 'command' && inputs.length === 0) {
    throw new AppError('NO_INPUT_FILES');
  }
  const groups =
    mode === 'each' ? inputs.filter((i) => !isPageAsset(i, inputs)).map((i) => [i]) : [inputs];
  const files: OperationOutput['files'] = [];
  const listed: { filename: string; size: number }[] = [];
  const result: Payload = {};
  let used: DetectedEngine | undefined;
  const messages: string[] = [];
  const outputs: string[] = [];

  for (const [index, group] of groups.entries()) {
    // A file without an extension has format '': only operations that take any file match it.
    const inputFormat = formatField(payload.input_format) ?? group[0]?.format ?? null;
    const { detected, row } = pick(run, inputFormat, outputFormat);
    used = detected;
    const { errors, values } = checkOptions(
      optionsFor({
        operation: task.operation,
        inputFormat: row.input_format,
        outputFormat: row.output_format,
        engine: row.engine,
      }),
      payload,
      COMMON_KEYS,
    );
    if (Object.keys(errors).length > 0) {
      throw new AppError('INVALID_DATA', { errors });
    }
    if (typeof payload.password === 'string') {
      values.password = payload.password;
    }

    const workDir = path.join(run.workDir, `run-${index}`);
    const outputDir = path.join(workDir, 'out');
    await fs.mkdir(outputDir, { recursive: true });
    const engineResult: EngineResult = await detected.engine.run({
      operation: task.operation,
      inputs: group.map((g) => (inputFormat && g === group[0] ? { ...g, format: inputFormat } : g)),
      siblings: inputs,
      assets: assets.map(({ sourceTaskId: _s, ...rest }) => rest),
      outputFormat: outputFormat ?? (row.output_format === null ? null : row.output_format),
      options: values,
      workDir,
      outputDir,
      deadlineMs: Math.max(1000, run.deadline - Date.now()),
      signal: run.signal,
      logger: run.ctx.logger,
      convertWith: (input, format) => convertWith(run, input, format, workDir),
      delegate: (operation, files, format, options) =>
        delegate(run, { operation, files, format, options, workDir, except: row.engine }),
    });
    run.signal.throwIfAborted();
    if (engineResult.metadata) {
      result.metadata = engineResult.metadata;
    }
    if (engineResult.output !== undefined) {
      outputs.push(engineResult.output);
    }
    if (engineResult.message) {
      messages.push(engineResult.message);
    }

    for (const [n, output] of engineResult.files.entries()) {
      const filename = outputName({
        asked: payload.filename,
        operation: task.operation,
        input: group[0],
        outputPath: output,
        outputFormat: extensionOf(output) || outputFormat || group[0]?.format || '',
        numberInTask: files.length + 1,
        numberInInput: n + 1,
        outputsOfInput: engineResult.files.length,
        singleOutput: groups.length === 1 && engineResult.files.length === 1,
      });
      const id = randomUUID();
      const key = `tasks/${task.id}/${id}`;
      run.stored.push(key);
      const object = await run.ctx.storage.putFile(key, output);
      files.push({
        id,
        filename,
        storageKey: key,
        size: BigInt(object.size),
        md5: object.md5,
        contentType: null,
      });
      listed.push({ filename, size: object.size });
    }
  }

  if (task.operation !== 'metadata' || listed.length > 0) {
    result.files = listed;
  }
  if (outputs.length > 0) {
    result.output = outputs.join('\n');
  }

  return {
    files,
    result: result as never,
    engine: used?.name,
    engineVersion: used?.version,
    message: messages.length > 0 ? messages.join(' ') : undefined,
  };
}

function formatField(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value.toLowerCase() : null;
}

/**
 * The engine of this worker that serves the task for this input format: the one the task names,
 * else the catalogue's best among the engines this worker has.
 */
function pick(
  run: OperationRun,
  inputFormat: string | null,
  outputFormat: string | null,
): { detected: DetectedEngine; row: CatalogueRow } {
  const payload = run.task.payload as Payload;
  const asked =
    typeof payload.engine === 'string' && payload.engine !== ''
      ? canonicalEngine(payload.engine)
      : null;
  const query = { operation: run.task.operation, inputFormat, outputFormat, engine: asked };
  const row = chooseRow(query, new Set(run.ctx.engines.keys()));
  if (!row) {
    throw new AppError('INVALID_CONVERSION_TYPE', { message: unsupportedMessage(query) });
  }
  const detected = run.ctx.engines.get(row.engine);
  if (!detected) {
    throw new AppError('ENGINE_UNAVAILABLE', {
      message: `This worker has no engine ${row.engine}.`,
    });
  }

  return { detected, row };
}

type FetchedInput = EngineInput & { sourceTaskId: string };

/** The option that names another task's file instead of holding a value. */
function assetReference(
  operation: string,
  payload: Payload,
): { field: string; name: string } | null {
  if (operation === 'watermark' && typeof payload.image === 'string' && payload.image !== '') {
    return { field: 'image', name: payload.image };
  }
  return null;
}

/** Each input file into the work dir, under a name of ours that keeps its extension. */
async function fetchInputs(run: OperationRun): Promise<FetchedInput[]> {
  const dir = path.join(run.workDir, 'in');
  await fs.mkdir(dir, { recursive: true });
  const inputs: FetchedInput[] = [];
  for (const [index, file] of run.task.inputFiles.entries()) {
    inputs.push(await fetchOne(run, file, dir, index));
  }

  return inputs;
}

async function fetchOne(
  run: OperationRun,
  file: InputFile,
  dir: string,
  index: number,
): Promise<FetchedInput> {
  const format = extensionOf(file.filename);
  const local = path.join(dir, `${index}${format ? `.${format}` : ''}`);
  await run.ctx.storage.download(file.storageKey, local);

  return {
    path: local,
    format,
    filename: file.filename,
    source: file.source,
    sourceTaskId: file.sourceTaskId,
  };
}

const PAGES = new Set(['html', 'htm']);

/**
 * A web page converted together with its stylesheets, scripts and images: those files are there
 * for the page to load (the engine gets them as siblings), not to be converted themselves.
 */
function isPageAsset(input: EngineInput, all: EngineInput[]): boolean {
  return !PAGES.has(input.format) && all.some((i) => PAGES.has(i.format));
}

/** Operations that read PDF contents, so an encrypted PDF needs its password first. */
const READS_PDF = new Set(
  Object.entries(PROCESSING_OPERATIONS)
    .filter(([op, mode]) => (mode === 'each' && op !== 'metadata') || op === 'merge')
    .map(([op]) => op),
);

/**
 * Every PDF input checked and, when encrypted, decrypted with the task's `password` before an
 * engine sees it (PASSWORD_REQUIRED, PASSWORD_INVALID, INPUT_CORRUPT otherwise). Needs qpdf.
 */
async function unlockPdfs(run: OperationRun, inputs: EngineInput[]): Promise<EngineInput[]> {
  if (!READS_PDF.has(run.task.operation) || !run.ctx.engines.has('qpdf')) {
    return inputs;
  }
  const payload = run.task.payload as Payload;
  const password = typeof payload.password === 'string' ? payload.password : undefined;
  const dir = path.join(run.workDir, 'unlocked');
  await fs.mkdir(dir, { recursive: true });
  const out: EngineInput[] = [];
  for (const input of inputs) {
    out.push(
      input.format === 'pdf'
        ? await unlockPdf(
            input,
            password,
            dir,
            Math.max(1000, run.deadline - Date.now()),
            run.signal,
            run.ctx.logger,
          )
        : input,
    );
  }
  return out;
}

/** Lets an engine have a file converted first by another engine of this worker. */
async function convertWith(
  run: OperationRun,
  input: EngineInput,
  outputFormat: string,
  workDir: string,
): Promise<EngineInput> {
  if (input.format === outputFormat) {
    return input;
  }
  const row = chooseRow(
    { operation: 'convert', inputFormat: input.format, outputFormat },
    new Set(run.ctx.engines.keys()),
  );
  const detected = row ? run.ctx.engines.get(row.engine) : undefined;
  if (!row || !detected) {
    throw new AppError(row ? 'ENGINE_UNAVAILABLE' : 'INVALID_CONVERSION_TYPE', {
      message: `The file ${input.filename} cannot be converted to ${outputFormat} on this worker.`,
    });
  }
  const dir = path.join(workDir, `pre-${randomUUID().slice(0, 8)}`);
  const outputDir = path.join(dir, 'out');
  await fs.mkdir(outputDir, { recursive: true });
  const { values } = checkOptions(
    optionsFor({
      operation: 'convert',
      inputFormat: input.format,
      outputFormat,
      engine: row.engine,
    }),
    {},
    COMMON_KEYS,
  );
  const converted = await detected.engine.run({
    operation: 'convert',
    inputs: [input],
    siblings: [input],
    assets: [],
    outputFormat,
    options: values,
    workDir: dir,
    outputDir,
    deadlineMs: Math.max(1000, run.deadline - Date.now()),
    signal: run.signal,
    logger: run.ctx.logger,
  });
  const [first] = converted.files;
  if (!first) {
    throw new AppError('ENGINE_FAILED', { message: `${row.engine} wrote no ${outputFormat}.` });
  }

  return {
    path: first,
    format: outputFormat,
    filename: input.filename.replace(/\.[^.]*$/, '') + `.${outputFormat}`,
    source: input.source,
  };
}

/** Lets an engine hand a step to the best other engine of this worker for it. */
async function delegate(
  run: OperationRun,
  step: {
    operation: string;
    files: EngineInput[];
    format: string | null;
    options: Record<string, unknown>;
    workDir: string;
    except: string;
  },
): Promise<string[]> {
  const first = step.files[0];
  const served = new Set([...run.ctx.engines.keys()].filter((e) => e !== step.except));
  const query = {
    operation: step.operation,
    inputFormat: first?.format ?? null,
    outputFormat: step.format,
  };
  const row = chooseRow(query, served);
  const detected = row && served.has(row.engine) ? run.ctx.engines.get(row.engine) : undefined;
  if (!row || !detected) {
    throw new AppError('ENGINE_UNAVAILABLE', {
      message: `No engine of this worker runs ${step.operation} on ${query.inputFormat ?? 'these files'}.`,
    });
  }
  const { errors, values } = checkOptions(
    optionsFor({ ...query, engine: row.engine }),
    step.options,
    COMMON_KEYS,
  );
  if (Object.keys(errors).length > 0) {
    throw new AppError('INVALID_DATA', { errors });
  }
  const dir = path.join(step.workDir, `step-${randomUUID().slice(0, 8)}`);
  const outputDir = path.join(dir, 'out');
  await fs.mkdir(outputDir, { recursive: true });
  const result = await detected.engine.run({
    operation: step.operation,
    inputs: step.files,
    siblings: step.files,
    assets: [],
    outputFormat: step.format,
    options: values,
    workDir: dir,
    outputDir,
    deadlineMs: Math.max(1000, run.deadline - Date.now()),
    signal: run.signal,
    logger: run.ctx.logger,
  });

  return result.files;
}
