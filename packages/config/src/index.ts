export { loadConfig, ConfigError, engineConcurrencyOf } from './config';
export type { Config, S3Settings } from './config';
export { createLogger } from './logger';
export type { Logger } from './logger';
export { onShutdown, exitOnStartupFailure } from './process';
