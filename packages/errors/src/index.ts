export { AppError, isAppError } from './app-error';
export type { AppErrorOptions } from './app-error';
export { CODES } from './codes';
export type { ErrorCode } from './codes';
