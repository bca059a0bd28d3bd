// Queue names and the routing of a ready task to one of them (ARCHITECTURE.md decision 3).

/** Imports and exports: network and storage work, no engine. */
export const IO_QUEUE = 'io';
export const TASK_JOB_NAME = 'run-task';

/** A BullMQ job is only a pointer to a task; Postgres holds everything else. */
export interface TaskJobData {
  taskId: string;
}

/** Names users send that we serve with another engine (CloudConvert's `office` is LibreOffice). */
export const ENGINE_ALIASES: Readonly<Record<string, string>> = { office: 'libreoffice' };

/** `engine.<name>` takes any version; `engine.<name>.<version>` is pinned by `engine_version`. */
export function engineQueue(engine: string, version?: string | null): string {
  return version ? `engine.${engine}.${version}` : `engine.${engine}`;
}

/** The engine a processing task asks for, after aliases; libreoffice when it names none. */
export function engineOf(payload: Record<string, unknown>): string {
  const asked =
    typeof payload.engine === 'string' && payload.engine !== '' ? payload.engine : 'libreoffice';

  return ENGINE_ALIASES[asked] ?? asked;
}

export function routeTask(task: { operation: string; payload: unknown }): string | null {
  const payload = (task.payload ?? {}) as Record<string, unknown>;
  if (task.operation === 'import/upload') {
    return null;
  }
  if (task.operation.startsWith('import/') || task.operation.startsWith('export/')) {
    return IO_QUEUE;
  }

  const version = typeof payload.engine_version === 'string' ? payload.engine_version : null;

  // TODO(#3): pick the engine from the input and output formats once there is more than one.
  return engineQueue(engineOf(payload), version);
}
