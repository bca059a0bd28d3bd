export { loadConfig, ConfigError, engineConcurrencyOf } from './config';
export type { Config, CreditModel, S3Settings } from './config';
export { createLogger } from './logger';
export type { Logger, LogDestination } from './logger';
export { onShutdown, exitOnStartupFailure } from './process';
