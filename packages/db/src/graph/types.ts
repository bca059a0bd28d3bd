import type { Prisma } from '../generated/prisma/client';

export type TaskStatusName = 'waiting' | 'processing' | 'finished' | 'error';
export type JobStatusName = TaskStatusName;

/** Something that changed in a committed transaction; the caller publishes it as an event. */
export interface Change {
  kind: 'job' | 'task';
  id: string;
  jobId: string | null;
  userId: number;
  status: TaskStatusName;
  event: 'created' | 'updated' | 'finished' | 'failed';
}

/** A task whose inputs are all done and that must now be handed to `queue`. */
export interface Ready {
  id: string;
  queue: string;
}

export interface Outcome {
  changes: Change[];
  ready: Ready[];
  /** Storage keys of files the transaction refused to record (sandbox): the caller deletes them. */
  discarded?: string[];
}

/**
 * Picks the queue of a task that is ready to run, or null when nothing needs to run it (an
 * `import/upload` waits for its upload instead), or a code and message when no queue would ever
 * take it (the task fails at once instead of waiting forever). Supplied by the caller, so this
 * package never depends on queue naming.
 */
export type Router = ((task: {
  id: string;
  operation: string;
  payload: Prisma.JsonValue;
  /** Lower-case extension of the first input file, when the task has one. */
  inputFormat?: string | null;
  /** Extensions of all its input files, in order ('' for a file without one). */
  inputFormats?: string[];
}) => string | null | { code: string; message: string }) & {
  /**
   * What a task that ends without a run (an instant task) costs by the operator's credit
   * model; 0 when absent. Charged as the task finishes, unless it is a sandbox task.
   */
  creditsOf?: (operation: string) => number;
};

export interface StoredFile {
  id: string;
  filename: string;
  storageKey: string;
  size: bigint;
  md5: string | null;
  contentType: string | null;
}

export interface TaskSpec {
  id: string;
  name: string;
  operation: string;
  payload: Prisma.InputJsonObject;
  ignoreError: boolean;
  /** Names of the tasks of the same job whose files this task consumes, in order. */
  inputs: string[];
  priority?: number;
  /** Initial result (the upload form of an `import/upload`). */
  result?: Prisma.InputJsonObject;
  /** Set when the task is created already ended (an import whose bytes are stored). */
  ended?: TaskEnd;
}

export interface TaskFailure {
  status: 'error';
  code: string;
  message: string;
  /** What the task shows after all (a sandbox refusal lists the files and their md5). */
  result?: Prisma.InputJsonObject;
}

/**
 * How a task ended that never went to a queue: an `import/raw` or `import/base64` whose bytes
 * the gateway stored before creating it.
 */
export type TaskEnd =
  { status: 'finished'; result: Prisma.InputJsonObject; files: StoredFile[] } | TaskFailure;
/**
 * Encrypts the secret fields of a payload before it is written (the api package's
 * `PayloadCipher`); sealing a value that is already sealed leaves it as it is.
 */
export interface PayloadSealer {
  seal(
    operation: string,
    userId: number,
    payload: Record<string, unknown>,
  ): Record<string, unknown>;
}
