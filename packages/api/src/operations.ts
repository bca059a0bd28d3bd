// The operations this deployment accepts. Issue #3 adds the rest of the v2 catalogue.

export const OPERATIONS = [
  'import/upload',
  'import/url',
  'import/base64',
  'import/raw',
  'convert',
  'export/url',
] as const;

export type Operation = (typeof OPERATIONS)[number];

export function isOperation(value: unknown): value is Operation {
  return typeof value === 'string' && (OPERATIONS as readonly string[]).includes(value);
}

/** Operations that run an engine: their tasks carry `engine` and `engine_version`. */
export function isProcessingOperation(operation: string): boolean {
  return !operation.startsWith('import/') && !operation.startsWith('export/');
}
