// Sends a POST under the outbound policy (webhook deliveries): http(s) only, checked and pinned
// addresses, one deadline for the whole exchange, redirects not followed.
import { AppError } from '@convertd/errors';

import { discard, startExchange } from './exchange';
import { cancelled, failure, invalidUrl, schemeRefused, seconds } from './failures';
import { resolveHost } from './resolve-host';
import type { HostLookup } from './types';

export interface PostOptions {
  allowPrivate: boolean;
  headers: Record<string, string>;
  /** Deadline for the whole exchange: DNS, connect, sending, and the response. */
  timeoutMs: number;
  lookup?: HostLookup;
}

/** Most of a response body that is read (and then dropped); receivers' answers are not kept. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs `body` to `url` and resolves with the status code once the response ended. Throws an
 * AppError: URL_NOT_ALLOWED for a URL the policy refuses, IMPORT_FAILED for a network failure or
 * the deadline (the message names the host, never the URL).
 */
export async function postUrl(
  url: string,
  body: Buffer,
  options: PostOptions,
): Promise<{ status: number }> {
  const target = parseUrl(url);
  const controller = new AbortController();
  const timer = setTimeout(() => {
    const message = `The URL did not answer within ${seconds(options.timeoutMs)}.`;
    controller.abort(failure(message, { details: { timeoutMs: options.timeoutMs } }));
  }, options.timeoutMs);
  try {
    const addresses = await untilAborted(
      resolveHost(target.hostname, { allowPrivate: options.allowPrivate, lookup: options.lookup }),
      controller.signal,
    );
    const exchange = await startExchange({
      url: target,
      addresses,
      headers: Object.fromEntries(
        Object.entries(options.headers).map(([k, v]) => [k.toLowerCase(), v]),
      ),
      signal: controller.signal,
      idleTimeoutMs: options.timeoutMs,
      method: 'POST',
      body,
    });
    const status = exchange.res.statusCode ?? 0;
    await drain(exchange.res, controller.signal).finally(() => discard(exchange));

    return { status };
  } finally {
    clearTimeout(timer);
  }
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidUrl();
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw schemeRefused(url.protocol, false);
  }

  return url;
}

/** Reads the response to its end (up to a cap), so the status is final and the socket freed. */
function drain(res: NodeJS.ReadableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let read = 0;
    const onAbort = (): void => reject(cancelled(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    res.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > MAX_RESPONSE_BYTES) {
        done();
      }
    });
    res.once('end', done);
    res.once('close', done);
    res.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err instanceof AppError ? err : failure('The response was cut off.', { cause: err }));
    });
  });
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    if (signal.aborted) {
      onAbort();
    } else {
      signal.addEventListener('abort', onAbort, { once: true });
    }
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
