// Queue names and the routing of a ready task to one of them (ARCHITECTURE.md decision 3).
import { canonicalEngine, chooseRow, isProcessingOperation } from '@convertd/api';

/** Imports and exports: network and storage work, no engine. */
export const IO_QUEUE = 'io';
export const TASK_JOB_NAME = 'run-task';

/** A BullMQ job is only a pointer to a task; Postgres holds everything else. */
export interface TaskJobData {
  taskId: string;
}

export { ENGINE_ALIASES } from '@convertd/api';

/** `engine.<name>` takes any version; `engine.<name>.<version>` is pinned by `engine_version`. */
export function engineQueue(engine: string, version?: string | null): string {
  return version ? `engine.${engine}.${version}` : `engine.${engine}`;
}

export interface RoutableTask {
  operation: string;
  payload: unknown;
  /** The format of the first input file, when the task has inputs. */
  inputFormat?: string | null;
  /** The formats of all its input files. */
  inputFormats?: string[];
}

/**
 * The engine a processing task runs on: the one it names, else the catalogue's best for its
 * operation and formats. Null when no engine serves it.
 */
export function engineOf(task: RoutableTask, served?: ReadonlySet<string>): string | null {
  const payload = (task.payload ?? {}) as Record<string, unknown>;
  if (typeof payload.engine === 'string' && payload.engine !== '') {
    return canonicalEngine(payload.engine);
  }

  const inputFormat =
    typeof payload.input_format === 'string' && payload.input_format !== ''
      ? payload.input_format.toLowerCase()
      : (task.inputFormat ?? null);
  const outputFormat =
    typeof payload.output_format === 'string' ? payload.output_format.toLowerCase() : null;

  return (
    chooseRow({ operation: task.operation, inputFormat, outputFormat }, served)?.engine ?? null
  );
}

/**
 * A router that sends tasks which pin no `engine_version` to the operator's default version of
 * their engine (ENGINE_DEFAULT_VERSIONS), so side-by-side versions do not share work by chance.
 */
export function makeRouter(
  defaultVersions: Readonly<Record<string, string>> = {},
  served: () => ReadonlySet<string> | undefined = () => undefined,
): (task: RoutableTask) => string | null {
  return (task) => routeTask(task, defaultVersions, served());
}

/** Every queue name a worker with this engine version consumes: any, major, minor, ..., full. */
export function engineQueues(engine: string, version: string): string[] {
  const parts = version.split('.');
  return [
    engineQueue(engine),
    ...parts.map((_, i) => engineQueue(engine, parts.slice(0, i + 1).join('.'))),
  ];
}

export function routeTask(
  task: RoutableTask,
  defaultVersions: Readonly<Record<string, string>> = {},
  served?: ReadonlySet<string>,
): string | null {
  if (task.operation === 'import/upload') {
    return null;
  }
  if (!isProcessingOperation(task.operation)) {
    return IO_QUEUE;
  }

  const payload = (task.payload ?? {}) as Record<string, unknown>;
  const engine = converterFor(task, served) ?? engineOf(task, served);
  if (engine === null) {
    // Every worker takes `io`; the task fails there with INVALID_CONVERSION_TYPE.
    return IO_QUEUE;
  }
  const version =
    typeof payload.engine_version === 'string' && payload.engine_version !== ''
      ? payload.engine_version
      : (defaultVersions[engine] ?? null);

  return engineQueue(engine, version);
}

/**
 * A merge converts its non-PDF inputs first, on the worker that merges: send it to the queue of
 * the engine that converts them, since every worker also runs the in-process PDF merger.
 */
function converterFor(task: RoutableTask, served?: ReadonlySet<string>): string | null {
  const payload = (task.payload ?? {}) as Record<string, unknown>;
  if (task.operation !== 'merge' || (typeof payload.engine === 'string' && payload.engine !== '')) {
    return null;
  }
  for (const format of task.inputFormats ?? []) {
    if (format === 'pdf' || format === '') {
      continue;
    }
    const row = chooseRow(
      { operation: 'convert', inputFormat: format, outputFormat: 'pdf' },
      served,
    );
    if (row) {
      return row.engine;
    }
  }
  return null;
}
