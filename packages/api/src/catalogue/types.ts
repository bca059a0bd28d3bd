// What an engine can do, as data: the gateway validates against it, the router picks engines
// with it, workers advertise the engines they have, and /v2/operations is built from it.

/** Option types as CloudConvert's `/v2/operations?include=options` names them. */
export type OptionType =
  'string' | 'boolean' | 'integer' | 'float' | 'enum' | 'array' | 'dictionary';

export interface OptionSpec {
  name: string;
  type: OptionType;
  default?: unknown;
  /** For `enum`, and for `array` of enum values. */
  possible_values?: readonly (string | number)[];
  min?: number;
  max?: number;
  /** Refused when missing. */
  required?: boolean;
  description?: string;
  /** Engines disagree on this option's type: the worker checks it against the one that runs. */
  unchecked?: boolean;
  /**
   * A check of the value's syntax, beyond its type, that needs no file: its messages, or null
   * when the value is fine. The engines read the value with the same code.
   */
  check?: (value: unknown, field: string) => string[] | null;
}

/** Catalogue group (CloudConvert's `meta.group`). */
export type Group =
  | 'archive'
  | 'audio'
  | 'cad'
  | 'document'
  | 'ebook'
  | 'font'
  | 'image'
  | 'presentation'
  | 'spreadsheet'
  | 'vector'
  | 'video'
  | 'website'
  | 'pdf'
  | 'other';

/**
 * One operation an engine runs: every input format to every output format, with these options.
 * `outputs: 'same'` means the output has the input's format (optimize, watermark, pdf tools);
 * `outputs: 'none'` means no file format applies (metadata, command).
 */
export interface CatalogueEntry {
  operation: string;
  inputs: readonly string[];
  outputs: readonly string[] | 'same' | 'none';
  options: readonly OptionSpec[];
  group?: Group;
  /** Lower wins when several engines serve the same pair; 100 when unset. */
  priority?: number;
  credits?: number;
}

export interface EngineSpec {
  /** Queue and wire name: `libreoffice`, `chrome`, `ghostscript`, ... */
  name: string;
  entries: readonly CatalogueEntry[];
}

/** One row of `/v2/operations`: one operation, one pair, one engine. */
export interface CatalogueRow {
  operation: string;
  input_format: string | null;
  output_format: string | null;
  engine: string;
  options: readonly OptionSpec[];
  group: Group;
  priority: number;
  credits: number;
}
