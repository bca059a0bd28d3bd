// Request validation with Laravel-style messages (`{"tasks":["The tasks field is required."]}`),
// since SDKs print them. Unknown keys are kept in payloads and otherwise ignored.
import { AppError } from '@convertd/errors';

import {
  canonicalEngine,
  checkOptions,
  COMMON_KEYS,
  matchingRows,
  optionsFor,
  OPERATION_CHECKS,
  PROCESSING_OPERATIONS,
  specOf,
  unsupportedMessage,
} from './catalogue/index';
import { extensionOf } from './filenames';
import {
  EXPORT_OPERATIONS,
  isOperation,
  isProcessingOperation,
  OPERATIONS,
  type Operation,
} from './operations';
import { checkRemoteStorage, isRemoteStorageOperation } from './remote-storage';
import { checkS3Fields } from './storage/s3-fields';

type Json = Record<string, unknown>;
type Errors = Record<string, string[]>;

const NAME = /^[A-Za-z0-9_-]{1,100}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FORMAT = /^[a-z0-9][a-z0-9._+-]{0,19}$/i;
const MAX_TASKS = 200;
const MAX_TAG_LENGTH = 1000;

export interface JobTaskInput {
  name: string;
  operation: Operation;
  /** The task as sent, minus the keys that are ours to interpret; `input` normalised to an array. */
  payload: Json;
  inputs: string[];
  ignoreError: boolean;
  /** The input format when it is known at creation (from the input import's file name). */
  inputFormat: string | null;
}

export interface JobInput {
  tag: string | null;
  webhookUrl: string | null;
  tasks: JobTaskInput[];
}

/** Validates `POST /v2/jobs`: names, operations, fields, that inputs exist, and no cycles. */
export function parseJob(body: unknown): JobInput {
  const errors: Errors = {};
  const b = asObject(body);
  if (b.redirect !== undefined && typeof b.redirect !== 'boolean') {
    add(errors, 'redirect', 'The redirect field must be true or false.');
  }
  const tasksField = b.tasks;
  const entries =
    tasksField !== null && typeof tasksField === 'object' && !Array.isArray(tasksField)
      ? Object.entries(tasksField as Json)
      : [];
  if (entries.length === 0) {
    fail({ tasks: ['The tasks field is required.'] });
  }

  if (entries.length > MAX_TASKS) {
    fail({ tasks: [`A job may have at most ${MAX_TASKS} tasks.`] });
  }

  const names = new Set(entries.map(([name]) => name));
  const tasks: JobTaskInput[] = [];
  for (const [name, raw] of entries) {
    const at = `tasks.${name}`;
    if (!NAME.test(name)) {
      add(errors, at, 'The task name may only contain letters, numbers, dashes and underscores.');
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      add(errors, at, 'The task must be an object.');
      continue;
    }

    const def = raw as Json;
    if (!isOperation(def.operation)) {
      add(errors, `${at}.operation`, operationMessage(def.operation));
      continue;
    }

    const inputs = inputList(def.input, `${at}.input`, errors);
    for (const input of inputs) {
      if (!names.has(input)) {
        add(errors, `${at}.input`, `The input task ${input} does not exist in this job.`);
      } else if (input === name) {
        add(errors, `${at}.input`, 'A task cannot be its own input.');
      }
    }
    const inferred = inferredFormat(inputs, tasksField as Json);
    checkFields(def.operation, def, inputs, at, errors, inferred);
    const { name: _n, ignore_error: ignore, ...rest } = def;
    tasks.push({
      name,
      operation: def.operation,
      payload: { ...rest, ...(def.input === undefined ? {} : { input: inputs }) },
      inputs: withAssets(def, inputs, (ref) => names.has(ref) && ref !== name),
      ignoreError: ignore === true || ignore === 'true' || ignore === 1,
      inputFormat: inferred,
    });
  }

  const cycle = Object.keys(errors).length === 0 ? findCycle(tasks) : null;
  if (cycle) {
    add(errors, 'tasks', `The tasks ${cycle.join(' -> ')} form a cycle.`);
  }
  checkNul({ tag: b.tag, webhook_url: b.webhook_url }, '', errors);
  const tag = optionalString(b.tag, 'tag', errors);
  if (tag !== null && tag.length > MAX_TAG_LENGTH) {
    add(errors, 'tag', `The tag may not be greater than ${MAX_TAG_LENGTH} characters.`);
  }
  const webhookUrl = optionalString(b.webhook_url, 'webhook_url', errors);
  if (webhookUrl !== null && !isHttpUrl(webhookUrl)) {
    add(errors, 'webhook_url', 'The webhook url format is invalid.');
  }
  if (Object.keys(errors).length > 0) {
    fail(errors);
  }

  return { tag, webhookUrl, tasks };
}

export interface TaskInput {
  operation: Operation;
  name: string | null;
  payload: Json;
  inputIds: string[];
}

/** Validates `POST /v2/{operation}`: `input` holds task ids here, not names. */
export function parseTask(operation: string, body: unknown): TaskInput {
  if (!isOperation(operation)) {
    throw new AppError('NOT_FOUND');
  }

  const errors: Errors = {};
  const def = asObject(body);
  const inputs = inputList(def.input, 'input', errors);
  for (const id of inputs) {
    if (!UUID.test(id)) {
      add(errors, 'input', 'Invalid input task.');
      break;
    }
  }
  checkFields(operation, def, inputs, '', errors);
  if (Object.keys(errors).length > 0) {
    fail(errors);
  }

  const { operation: _o, name, ignore_error: _i, ...payload } = def;
  if (def.input !== undefined) {
    payload.input = inputs;
  }

  return {
    operation,
    name: typeof name === 'string' && name !== '' ? name : null,
    payload,
    inputIds: withAssets({ ...def, operation }, inputs, (ref) => UUID.test(ref)),
  };
}

function checkFields(
  operation: Operation,
  def: Json,
  inputs: string[],
  at: string,
  errors: Errors,
  inferred: string | null = null,
): void {
  const key = (field: string) => (at ? `${at}.${field}` : field);
  checkNul(def, at, errors);
  const mode = PROCESSING_OPERATIONS[operation];
  const needsInput =
    EXPORT_OPERATIONS.includes(operation) ||
    ((mode === 'each' || mode === 'all') && operation !== 'command');
  if (needsInput && inputs.length === 0) {
    add(errors, key('input'), 'The input field is required.');
  }
  if (isProcessingOperation(operation)) {
    checkProcessing(operation, def, key, errors, inferred);
  }
  if (isRemoteStorageOperation(operation)) {
    checkRemoteStorage(operation, def, (field, message) => add(errors, key(field), message));
  }
  switch (operation) {
    case 'import/url':
      if (typeof def.url !== 'string' || def.url === '') {
        add(errors, key('url'), 'The url field is required.');
      } else if (!isHttpUrl(def.url)) {
        add(errors, key('url'), 'The url format is invalid.');
      }
      if (def.headers !== undefined && !isStringMap(def.headers)) {
        add(errors, key('headers'), 'The headers must be an object of strings.');
      }
      break;
    case 'capture-website':
      if (typeof def.url === 'string' && def.url !== '' && !isHttpUrl(def.url)) {
        add(errors, key('url'), 'The url format is invalid.');
      }
      break;
    case 'import/base64':
    case 'import/raw':
      if (typeof def.file !== 'string') {
        add(errors, key('file'), 'The file field is required.');
      } else if (operation === 'import/base64' && !/^[A-Za-z0-9+/=_\s-]*$/.test(def.file)) {
        add(errors, key('file'), 'The file must be base64 encoded.');
      }
      if (typeof def.filename !== 'string' || def.filename.trim() === '') {
        add(errors, key('filename'), 'The filename field is required.');
      }
      break;
    case 'import/upload':
      if (
        def.redirect !== undefined &&
        def.redirect !== null &&
        (typeof def.redirect !== 'string' || !isHttpUrl(def.redirect))
      ) {
        add(errors, key('redirect'), 'The redirect format is invalid.');
      }
      break;
    case 'import/s3':
    case 'export/s3':
      checkS3Fields(operation, def, (field, message) => add(errors, key(field), message));
      break;
    case 'export/url':
      for (const field of ['inline', 'archive_multiple_files']) {
        const value = def[field];
        if (
          value !== undefined &&
          value !== null &&
          ![true, false, 'true', 'false'].includes(value as never)
        ) {
          add(errors, key(field), `The ${field.replace(/_/g, ' ')} field must be true or false.`);
        }
      }
      break;
  }
  if (def.filename !== undefined && def.filename !== null && typeof def.filename !== 'string') {
    add(errors, key('filename'), 'The filename must be a string.');
  }
  if (def.timeout !== undefined && def.timeout !== null && !isPositiveInteger(def.timeout)) {
    add(errors, key('timeout'), 'The timeout must be a positive integer (seconds).');
  }
}

/**
 * The inputs plus the tasks that options point at (a watermark `image` naming another task):
 * the task waits for them too, and the worker hands their files to the engine separately.
 */
function withAssets(def: Json, inputs: string[], isTask: (ref: string) => boolean): string[] {
  const ref = def.operation === 'watermark' ? def.image : undefined;
  if (typeof ref === 'string' && isTask(ref) && !inputs.includes(ref)) {
    return [...inputs, ref];
  }
  return inputs;
}

/** Operations whose output format is chosen by the caller (the others keep the input's). */
const NEEDS_OUTPUT_FORMAT = new Set([
  'convert',
  'thumbnail',
  'merge',
  'archive',
  'capture-website',
]);

/**
 * A processing task against the catalogue: formats, engine, and each option's name and type.
 * When the input format is not known yet (an upload), options are checked against every engine
 * that could serve the task; the worker checks again against the one that does.
 */
function checkProcessing(
  operation: string,
  def: Json,
  key: (field: string) => string,
  errors: Errors,
  inferred: string | null,
): void {
  const output = def.output_format;
  if (NEEDS_OUTPUT_FORMAT.has(operation) && (typeof output !== 'string' || output === '')) {
    add(errors, key('output_format'), 'The output format field is required.');
    return;
  }
  if (
    output !== undefined &&
    output !== null &&
    (typeof output !== 'string' || !FORMAT.test(output))
  ) {
    add(errors, key('output_format'), 'The output format is invalid.');
    return;
  }
  const input = def.input_format;
  if (
    input !== undefined &&
    input !== null &&
    input !== '' &&
    (typeof input !== 'string' || !FORMAT.test(input))
  ) {
    add(errors, key('input_format'), 'The input format is invalid.');
    return;
  }
  const engine = typeof def.engine === 'string' && def.engine !== '' ? def.engine : null;
  if (def.engine !== undefined && def.engine !== null && def.engine !== '' && engine === null) {
    add(errors, key('engine'), 'The engine must be a string.');
    return;
  }
  if (engine !== null && !specOf(engine)) {
    add(errors, key('engine'), `The engine ${engine} is not supported.`);
    return;
  }
  if (
    def.engine_version !== undefined &&
    def.engine_version !== null &&
    typeof def.engine_version !== 'string'
  ) {
    add(errors, key('engine_version'), 'The engine version must be a string.');
    return;
  }

  const query = {
    operation,
    inputFormat: typeof input === 'string' && input !== '' ? input.toLowerCase() : inferred,
    outputFormat: typeof output === 'string' ? output.toLowerCase() : null,
    engine: engine === null ? null : canonicalEngine(engine),
  };
  if (matchingRows(query).length === 0) {
    throw new AppError('INVALID_CONVERSION_TYPE', { message: unsupportedMessage(query) });
  }
  const prefix = key('');
  const checked = checkOptions(optionsFor(query), def, COMMON_KEYS, prefix);
  const together = OPERATION_CHECKS[operation]?.(def) ?? {};
  for (const [field, messages] of [
    ...Object.entries(checked.errors),
    ...Object.entries(together).map(([name, m]) => [key(name), m] as const),
  ]) {
    for (const message of messages) {
      add(errors, field, message);
    }
  }
}

/** The input format a job task will get, when its only input is an import that names its file. */
function inferredFormat(inputs: string[], tasks: Json): string | null {
  if (inputs.length !== 1) {
    return null;
  }
  const source = tasks[inputs[0]!];
  if (source === null || typeof source !== 'object') {
    return null;
  }
  const { operation, filename } = source as Json;
  if (
    typeof operation === 'string' &&
    operation.startsWith('import/') &&
    typeof filename === 'string'
  ) {
    return extensionOf(filename) || null;
  }

  return null;
}

/** Deeper payloads are refused: nobody's options nest this far, and recursion must end. */
const MAX_DEPTH = 32;

/** Half of a UTF-16 surrogate pair without its other half (JSON allows `"\ud800"`). */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * PostgreSQL cannot store U+0000 nor a lone surrogate in JSON, and deep nesting exhausts the
 * stack of whatever walks the value next: say which field holds any of them, instead of failing
 * later. Iterative on purpose.
 */
function checkNul(value: unknown, at: string, errors: Errors): void {
  // Entries: the value, its path, its depth, and the field to name in errors (depth 1's path).
  const stack: [unknown, string, number, string][] = [[value, at, 0, at]];
  while (stack.length > 0) {
    const [current, where, depth, field] = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) {
        add(
          errors,
          where,
          'The field must not contain NUL characters (send binary content with import/base64).',
        );
      } else if (LONE_SURROGATE.test(current)) {
        add(errors, where, 'The field must be valid Unicode (it holds half a surrogate pair).');
      }
      continue;
    }
    if (current === null || typeof current !== 'object') {
      continue;
    }
    if (depth >= MAX_DEPTH) {
      add(
        errors,
        field || 'body',
        `The data may not be nested more than ${MAX_DEPTH} levels deep.`,
      );
      return;
    }

    for (const [k, v] of Object.entries(current)) {
      if (k.includes('\u0000') || LONE_SURROGATE.test(k)) {
        add(
          errors,
          where || k,
          'The field names must not contain NUL characters or half a surrogate pair.',
        );
      }
      const path = where ? `${where}.${k}` : k;
      stack.push([v, path, depth + 1, depth === 0 ? path : field]);
    }
  }
}

/** A positive integer, or a string of digits (loosely typed clients send numbers as strings). */
function isPositiveInteger(value: unknown): boolean {
  if (typeof value === 'string') {
    return /^\d+$/.test(value.trim()) && Number(value) > 0;
  }

  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function inputList(value: unknown, at: string, errors: Errors): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (typeof value === 'string') {
    return value === '' ? [] : [value];
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return [...new Set(value)];
  }

  add(errors, at, 'The input must be a task name or a list of task names.');
  return [];
}

function findCycle(tasks: JobTaskInput[]): string[] | null {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') {
      return null;
    }
    if (state.get(name) === 'visiting') {
      return [...stack.slice(stack.indexOf(name)), name];
    }

    state.set(name, 'visiting');
    stack.push(name);
    for (const input of byName.get(name)?.inputs ?? []) {
      const cycle = visit(input);
      if (cycle) {
        return cycle;
      }
    }
    stack.pop();
    state.set(name, 'done');
    return null;
  };
  for (const t of tasks) {
    const cycle = visit(t.name);
    if (cycle) {
      return cycle;
    }
  }

  return null;
}

function operationMessage(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    return 'The operation field is required.';
  }

  return `The operation ${value} is not supported. Supported: ${OPERATIONS.join(', ')}.`;
}

function optionalString(value: unknown, field: string, errors: Errors): string | null {
  if (value === undefined || value === null || value === '') {
    return null;
  }
  if (typeof value !== 'string') {
    add(errors, field, `The ${field.replace('_', ' ')} must be a string.`);
    return null;
  }

  return value;
}

function asObject(body: unknown): Json {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Json) : {};
}

function isStringMap(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.values(value as Json).every((v) => typeof v === 'string')
  );
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function add(errors: Errors, key: string, message: string): void {
  (errors[key] ??= []).push(message);
}

function fail(errors: Errors): never {
  throw new AppError('INVALID_DATA', { errors });
}
