// The contract between the worker and each conversion engine.
import type { EngineLogger } from './logger';

/** One conversion, on local files. Formats are lower-case extensions without the dot. */
export interface ConvertRequest {
  inputPath: string;
  inputFormat: string;
  outputFormat: string;
  /** An existing directory; outputs are written into it. */
  outputDir: string;
  /** Engine options as validated by the API (for LibreOffice: `pages` or `page_range`). */
  options: Record<string, unknown>;
  /** Time budget in milliseconds for the whole call, counted from its start. */
  deadlineMs: number;
  signal?: AbortSignal;
  logger?: EngineLogger;
}

export interface ConvertResult {
  /** Absolute paths of the outputs inside `outputDir`, the main output first. */
  files: string[];
}

/** One input format and the formats it converts to. */
export interface ConversionPair {
  input: string;
  outputs: readonly string[];
}

/** An adapter around one external program. */
export interface Engine {
  readonly name: string;
  /** Resolves with the program version, or null when the program is missing or broken. */
  detect(): Promise<{ version: string } | null>;
  conversions(): ReadonlyArray<ConversionPair>;
  canConvert(input: string, output: string): boolean;
  /** Rejects with an `AppError` (`ENGINE_*`, `INPUT_CORRUPT`, `PASSWORD_REQUIRED`...). */
  convert(req: ConvertRequest): Promise<ConvertResult>;
  /** Releases pooled resources; the engine is not used afterwards. */
  close?(): Promise<void>;
}
