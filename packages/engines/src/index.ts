export type { ConversionPair, ConvertRequest, ConvertResult, Engine } from './engine';
export type { EngineLogger } from './logger';
export { DEFAULT_KILL_GRACE_MS, OUTPUT_CAP_BYTES, runProcess } from './runner';
export type { RunProcessOptions, RunProcessResult } from './runner';
export { LibreOfficeEngine } from './libreoffice/libreoffice.engine';
export type { LibreOfficeEngineOptions } from './libreoffice/libreoffice.engine';
