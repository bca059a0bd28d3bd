export * from './serialize';
export * from './validate';
export { OPERATIONS, isProcessingOperation } from './operations';
export type { Operation } from './operations';
export { cleanFilename, extensionOf, replaceExtension } from './filenames';
