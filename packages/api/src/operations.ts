// The operations this deployment accepts: imports, the processing operations of the catalogue,
// and exports.
import { PROCESSING_OPERATIONS } from './catalogue/index';

export const IMPORT_OPERATIONS = [
  'import/upload',
  'import/url',
  'import/base64',
  'import/raw',
  'import/s3',
];
export const EXPORT_OPERATIONS = ['export/url', 'export/s3'];

export const OPERATIONS: readonly string[] = [
  ...IMPORT_OPERATIONS,
  ...Object.keys(PROCESSING_OPERATIONS),
  ...EXPORT_OPERATIONS,
];

export type Operation = string;

export function isOperation(value: unknown): value is Operation {
  return typeof value === 'string' && OPERATIONS.includes(value);
}

/** Operations that run an engine: their tasks carry `engine` and `engine_version`. */
export function isProcessingOperation(operation: string): boolean {
  return operation in PROCESSING_OPERATIONS;
}
