import { CODES, type ErrorCode } from './codes';

export interface AppErrorOptions {
  /** Overrides the catalogue's public message. Never put engine output or paths here. */
  message?: string;
  /** Field -> messages, for 422 INVALID_DATA answers. */
  errors?: Record<string, string[]>;
  cause?: unknown;
  /** Extra facts for the log only (exit code, stderr tail...). Never sent to clients. */
  details?: Record<string, unknown>;
  /** Overrides the catalogue's HTTP status. */
  statusCode?: number;
}

/** The one error type that crosses package boundaries; `code` is stable and public. */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly retryable: boolean;
  readonly errors: Record<string, string[]> | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, options: AppErrorOptions = {}) {
    const spec = CODES[code];
    super(
      options.message ?? spec.message,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.code = code;
    this.statusCode = options.statusCode ?? spec.status;
    this.retryable = spec.retryable;
    this.errors = options.errors;
    this.details = options.details;
  }
}

/** Matches by name and code, so errors that crossed a process or realm boundary still match. */
export function isAppError(err: unknown): err is AppError {
  return (
    err instanceof AppError ||
    (typeof err === 'object' &&
      err !== null &&
      (err as { name?: unknown }).name === 'AppError' &&
      typeof (err as { code?: unknown }).code === 'string' &&
      (err as { code: string }).code in CODES)
  );
}
