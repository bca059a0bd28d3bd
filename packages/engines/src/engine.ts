// The contract between the worker and each engine: one interface for every program and library.
import type { EngineSpec } from '@convertd/api';

import type { EngineLogger } from './logger';

/** One input file on local disk. Formats are lower-case extensions without the dot. */
export interface EngineInput {
  path: string;
  format: string;
  /** The user's file name (never a path); outputs are named after it. */
  filename: string;
  /** The task that produced the file: its name inside a job, else its id. */
  source: string;
}

/** One run of an operation. */
export interface EngineJob {
  operation: string;
  /** One file for operations that take each input alone, all for merge/archive/command. */
  inputs: EngineInput[];
  /**
   * Every input file of the task, for engines that resolve references between them (an HTML
   * page and the CSS and images that came with it). Includes `inputs`.
   */
  siblings: EngineInput[];
  /**
   * Files that options point at rather than files to process: the watermark `image` of another
   * task. Empty when no option names a task.
   */
  assets: EngineInput[];
  /** Null when the operation keeps the input's format or has no output file. */
  outputFormat: string | null;
  /** Options as checked against the engine's catalogue entry, defaults filled in. */
  options: Record<string, unknown>;
  /** An existing, empty directory of this run: scratch files go here. */
  workDir: string;
  /** An existing, empty directory; every file written here is an output. */
  outputDir: string;
  /** Time budget in milliseconds for the whole call, counted from its start. */
  deadlineMs: number;
  signal?: AbortSignal;
  logger?: EngineLogger;
  /**
   * Converts a file with another engine of this worker (merge of office files, thumbnails of
   * documents); rejects with ENGINE_UNAVAILABLE when this worker has none that can.
   */
  convertWith?: (input: EngineInput, outputFormat: string) => Promise<EngineInput>;
  /**
   * Runs an operation on files with the best other engine of this worker (a thumbnail of the PDF
   * an office document became); resolves with the paths of its outputs, in order.
   */
  delegate?: (
    operation: string,
    inputs: EngineInput[],
    outputFormat: string | null,
    options: Record<string, unknown>,
  ) => Promise<string[]>;
}

export interface EngineResult {
  /** Absolute paths of the outputs inside `outputDir`, in order. */
  files: string[];
  /** `result.metadata` (metadata operation). */
  metadata?: Record<string, unknown>;
  /** Console output (`command` with `capture_output`). */
  output?: string;
  /** Informational task message, e.g. how much optimize saved. */
  message?: string;
}

/** An adapter around one external program or in-process library. */
export interface Engine {
  /** Queue and wire name; equals `spec.name`. */
  readonly name: string;
  /** The operations, formats and options this engine serves. */
  readonly spec: EngineSpec;
  /** Resolves with the program version, or null when the program is missing or broken. */
  detect(): Promise<{ version: string } | null>;
  /** Rejects with an `AppError` (`ENGINE_*`, `INPUT_CORRUPT`, `PASSWORD_REQUIRED`...). */
  run(job: EngineJob): Promise<EngineResult>;
  /** Starts warm processes ahead of the first task, for engines that keep them. */
  warm?(logger?: EngineLogger): Promise<void>;
  /** The state of the engine's warm processes, for logs and metrics. */
  state?(): Record<string, unknown>;
  /** Releases pooled resources; the engine is not used afterwards. */
  close?(): Promise<void>;
}

/** Old single-conversion request, still used by the LibreOffice adapter's own API. */
export interface ConvertRequest {
  inputPath: string;
  inputFormat: string;
  outputFormat: string;
  outputDir: string;
  options: Record<string, unknown>;
  deadlineMs: number;
  signal?: AbortSignal;
  logger?: EngineLogger;
}

export interface ConvertResult {
  files: string[];
}

export interface ConversionPair {
  input: string;
  outputs: readonly string[];
}
