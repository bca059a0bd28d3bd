// The errors of the outbound policy. Messages name the remote problem, never URLs or headers.
import { STATUS_CODES } from 'node:http';

import { AppError, isAppError } from '@convertd/errors';

/** A status the remote answered that ends the import. */
export function httpStatusFailure(status: number): AppError {
  const text = STATUS_CODES[status];

  return new AppError('IMPORT_FAILED', {
    message: `The URL answered HTTP ${status}${text === undefined ? '' : ` ${text}`}.`,
    details: { status },
  });
}

/** A refused scheme, on the first URL or on a redirect. */
export function schemeRefused(protocol: string, isRedirect: boolean): AppError {
  const scheme = protocol.replace(/:$/, '');

  return new AppError('URL_NOT_ALLOWED', {
    message: isRedirect
      ? `The URL redirected to the scheme ${scheme}, but only http and https are allowed.`
      : `The scheme ${scheme} is not allowed; use an http or https URL.`,
    details: { scheme },
  });
}

export function invalidUrl(): AppError {
  return new AppError('URL_NOT_ALLOWED', { message: 'The URL is not valid.' });
}

export function failure(
  message: string,
  extra: { details?: Record<string, unknown>; cause?: unknown } = {},
): AppError {
  return new AppError('IMPORT_FAILED', { message, ...extra });
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', {
    message: `The file is larger than the limit of ${maxBytes} bytes.`,
    details: { maxBytes },
  });
}

export function seconds(ms: number): string {
  return `${ms / 1000} second${ms === 1000 ? '' : 's'}`;
}

/** Maps an abort reason: an AppError passes through, anything else means the caller cancelled. */
export function cancelled(reason: unknown): AppError {
  return isAppError(reason)
    ? reason
    : new AppError('CANCELLED', { message: 'The download was cancelled.', cause: reason });
}

/** Maps a socket or TLS error of one connection to a message about the remote. */
export function connectionFailure(err: unknown, host: string): AppError {
  const raw = (err as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' ? raw : '';
  let message = `The connection to ${host} failed.`;
  if (code === 'ECONNREFUSED') {
    message = `The host ${host} refused the connection.`;
  } else if (code === 'ECONNRESET') {
    message = `The host ${host} closed the connection without an answer.`;
  } else if (code === 'ETIMEDOUT') {
    message = `The connection to ${host} timed out.`;
  } else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    message = `The host ${host} could not be reached.`;
  } else if (/CERT|ERR_TLS|ERR_SSL|SELF_SIGNED|UNABLE_TO/.test(code)) {
    message = `The TLS certificate of ${host} could not be verified.`;
  }

  return new AppError('IMPORT_FAILED', { message, cause: err, details: { host, code } });
}
