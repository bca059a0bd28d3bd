export { loadConfig, ConfigError, engineConcurrencyOf } from './config';
export type { Config, CreditModel } from './config';
export { createLogger } from './logger';
export type { Logger, LogDestination } from './logger';
export { onShutdown, exitOnStartupFailure } from './process';
