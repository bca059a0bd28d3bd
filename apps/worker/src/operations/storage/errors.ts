// Reading what went wrong out of SDK errors, which wrap socket errors and our own policy errors
// in their own types. Messages say what the remote did, never a URL, key or token.
import { isAppError, type AppError } from '@convertd/errors';

const NETWORK: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'refused the connection',
  ENOTFOUND: 'could not be resolved',
  EAI_AGAIN: 'could not be resolved',
  ETIMEDOUT: 'did not answer in time',
  ECONNRESET: 'closed the connection',
  EPIPE: 'closed the connection',
  EHOSTUNREACH: 'could not be reached',
  ENETUNREACH: 'could not be reached',
};

/** The error and the errors it wraps (`cause`, AggregateError's `errors`), outermost first. */
export function chain(err: unknown): unknown[] {
  const seen: unknown[] = [];
  const queue = [err];
  while (queue.length > 0 && seen.length < 10) {
    const current = queue.shift();
    if (current === null || typeof current !== 'object' || seen.includes(current)) {
      continue;
    }
    seen.push(current);
    const { cause, errors } = current as { cause?: unknown; errors?: unknown };
    queue.push(cause, ...(Array.isArray(errors) ? (errors as unknown[]) : []));
  }

  return seen;
}

/** Our own error inside an SDK's (the outbound policy refused an address, a size limit). */
export function innerAppError(err: unknown): AppError | undefined {
  return chain(err).find(isAppError);
}

/** An HTTP status carried by the error, under the names the SDKs use. */
export function statusOf(err: unknown): number | undefined {
  for (const e of chain(err)) {
    const { statusCode, status, code } = e as Record<string, unknown>;
    for (const value of [statusCode, status, code]) {
      if (typeof value === 'number' && value >= 100 && value < 600) {
        return value;
      }
    }
  }

  return undefined;
}

/** "<label> refused the connection (ECONNREFUSED)." for socket errors; undefined otherwise. */
export function networkProblem(label: string, err: unknown): string | undefined {
  for (const e of chain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') {
      continue;
    }
    if (code in NETWORK) {
      return `${label} ${NETWORK[code]} (${code}).`;
    }
    if (/CERT|ERR_TLS|ERR_SSL|SELF_SIGNED|UNABLE_TO/.test(code)) {
      return `The TLS certificate of ${label} could not be verified (${code}).`;
    }
  }

  return undefined;
}
