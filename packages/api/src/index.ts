export * from './serialize';
export * from './validate';
export { OPERATIONS, isProcessingOperation } from './operations';
export type { Operation } from './operations';
export { cleanFilename, extensionOf, replaceExtension, splitExtension } from './filenames';
export * from './catalogue/index';
export { EXPORT_OPERATIONS, IMPORT_OPERATIONS, isOperation } from './operations';
