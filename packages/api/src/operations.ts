// The operations this deployment accepts: imports, the processing operations of the catalogue,
// and exports (`remote-storage.ts` lists those of other people's storage but S3).
import { PROCESSING_OPERATIONS } from './catalogue/index';
import { REMOTE_EXPORTS, REMOTE_IMPORTS } from './remote-storage';

export const IMPORT_OPERATIONS = [
  'import/upload',
  'import/url',
  'import/base64',
  'import/raw',
  'import/s3',
  ...REMOTE_IMPORTS,
];
export const EXPORT_OPERATIONS = ['export/url', 'export/s3', ...REMOTE_EXPORTS];

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
