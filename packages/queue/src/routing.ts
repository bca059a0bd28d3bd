// Queue names and the routing of a ready task to one of them (ARCHITECTURE.md decision 3).
import {
  canonicalEngine,
  chooseRow,
  isProcessingOperation,
  matchingRows,
  versionMatches,
  type PairQuery,
} from '@convertd/api';

import type { ServedVersions } from './registry';

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

/** A task that no queue would ever consume: it fails at once with this code and message. */
export interface RouteRefusal {
  code: 'ENGINE_VERSION_UNAVAILABLE';
  message: string;
}

/** A queue name, null for a task nothing runs (an upload waits for its file), or a refusal. */
export type Route = string | null | RouteRefusal;

/**
 * A router that sends tasks which pin no `engine_version` to the operator's default version of
 * their engine (ENGINE_DEFAULT_VERSIONS), so side-by-side versions do not share work by chance.
 */
export function makeRouter(
  defaultVersions: Readonly<Record<string, string>> = {},
  served: () => ServedVersions | undefined = () => undefined,
): (task: RoutableTask) => Route {
  return (task) => routeTask(task, defaultVersions, served());
}

/**
 * Why `engine` cannot run a task pinned to `pinned`, or null when some live worker runs it in
 * that version. Without a named engine the version may belong to another engine of the pair:
 * say which, so the client can name it.
 */
export function pinnedVersionProblem(
  query: PairQuery,
  engine: string,
  pinned: string,
  named: string | null,
  served: ServedVersions,
): string | null {
  const runs = (name: string) => (served.get(name) ?? []).some((v) => versionMatches(v, pinned));
  if (runs(engine)) {
    return null;
  }

  const available = [...new Set(served.get(engine) ?? [])];
  if (named) {
    return `The engine ${named} is not served in version ${pinned} (served: ${available.join(', ')}).`;
  }
  const owners = [
    ...new Set(
      matchingRows({ ...query, engine: null })
        .map((r) => r.engine)
        .filter((e) => e !== engine && runs(e)),
    ),
  ];
  if (owners.length > 0) {
    return `Version ${pinned} is a version of ${owners.join(', ')}, not of ${engine}, which serves this task by default; name the engine as well ("engine": "${owners[0]!}").`;
  }

  return `No engine that serves this task runs in version ${pinned}; name the engine as well.`;
}

/** Every queue name a worker with this engine version consumes: any, major, minor, ..., full. */
export function engineQueues(engine: string, version: string): string[] {
  const parts = version.split('.');
  return [
    engineQueue(engine),
    ...parts.map((_, i) => engineQueue(engine, parts.slice(0, i + 1).join('.'))),
  ];
}

/**
 * The queue of a ready task. With what live workers serve known (`served`), a task is never
 * put on a queue nobody consumes: a pinned version that the chosen engine does not run in is
 * refused, and an operator default version nobody runs falls back to any version.
 */
export function routeTask(
  task: RoutableTask,
  defaultVersions: Readonly<Record<string, string>> = {},
  served?: ServedVersions,
): Route {
  if (task.operation === 'import/upload') {
    return null;
  }
  if (!isProcessingOperation(task.operation)) {
    return IO_QUEUE;
  }

  const payload = (task.payload ?? {}) as Record<string, unknown>;
  const names = served ? new Set(served.keys()) : undefined;
  const engine = converterFor(task, names) ?? engineOf(task, names);
  if (engine === null) {
    // Every worker takes `io`; the task fails there with INVALID_CONVERSION_TYPE.
    return IO_QUEUE;
  }
  // An engine nobody serves right now keeps its queue: its workers may be starting.
  const known = served?.has(engine) ? served : undefined;
  const pinned = stringField(payload.engine_version);
  if (pinned !== null) {
    const problem = known
      ? pinnedVersionProblem(
          queryOf(task),
          engine,
          pinned,
          stringField(payload.engine) === null ? null : engine,
          known,
        )
      : null;
    return problem
      ? { code: 'ENGINE_VERSION_UNAVAILABLE', message: problem }
      : engineQueue(engine, pinned);
  }

  const wanted = defaultVersions[engine] ?? null;
  const runsWanted =
    wanted === null || !known || (known.get(engine) ?? []).some((v) => versionMatches(v, wanted));

  return engineQueue(engine, runsWanted ? wanted : null);
}

function stringField(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function queryOf(task: RoutableTask): PairQuery {
  const payload = (task.payload ?? {}) as Record<string, unknown>;
  const inputFormat = stringField(payload.input_format)?.toLowerCase() ?? task.inputFormat ?? null;

  return {
    operation: task.operation,
    inputFormat,
    outputFormat: stringField(payload.output_format)?.toLowerCase() ?? null,
  };
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
