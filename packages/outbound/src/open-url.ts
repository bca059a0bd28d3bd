// Opens a remote URL under the outbound policy: http(s) only, checked and pinned addresses at
// every redirect hop, a header deadline, an idle timer and a byte cap.
import { streamBody } from './body';
import { discard, startExchange } from './exchange';
import {
  cancelled,
  failure,
  httpStatusFailure,
  invalidUrl,
  schemeRefused,
  seconds,
  tooLarge,
} from './failures';
import { pickFilename } from './filename';
import { resolveHost } from './resolve-host';
import type { Exchange } from './exchange';
import type { OpenUrlOptions, OpenUrlResult } from './types';

const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_USER_AGENT = 'convertd';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const DROPPED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * Opens an http(s) URL for reading, refusing non-public destinations unless `allowPrivate`;
 * the caller must consume or destroy `body`.
 */
export async function openUrl(url: string, options: OpenUrlOptions): Promise<OpenUrlResult> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? timeoutMs;
  let current = parseHttpUrl(url, undefined);
  let carrySecrets = true;
  const deadline = createDeadline(timeoutMs, options.signal);
  try {
    for (let hop = 0; ; hop += 1) {
      const resolving = resolveHost(current.hostname, options);
      const addresses = await untilAborted(resolving, deadline.signal);
      const exchange = await startExchange({
        url: current,
        addresses,
        headers: buildHeaders(current, options, carrySecrets),
        signal: deadline.signal,
        idleTimeoutMs,
      });
      const status = exchange.res.statusCode ?? 0;
      const location = exchange.res.headers.location;
      if (REDIRECT_STATUSES.has(status) && location !== undefined) {
        discard(exchange);
        const next = parseHttpUrl(location, current);
        if (hop >= maxRedirects) {
          throw failure(`The URL redirected more than ${maxRedirects} times.`, {
            details: { maxRedirects },
          });
        }

        // Like fetch and curl: credentials do not follow a redirect to another origin.
        carrySecrets &&= next.origin === current.origin;
        current = next;
        continue;
      }

      if (status < 200 || status >= 300) {
        discard(exchange);
        throw httpStatusFailure(status);
      }

      deadline.stopTimer();

      return openBody(exchange, current, options, idleTimeoutMs, deadline);
    }
  } catch (err) {
    deadline.dispose();
    throw err;
  }
}

function openBody(
  exchange: Exchange,
  url: URL,
  options: OpenUrlOptions,
  idleTimeoutMs: number,
  deadline: Deadline,
): OpenUrlResult {
  const { res } = exchange;
  const rawLength = res.headers['content-length'];
  const contentLength =
    rawLength !== undefined && /^\d+$/.test(rawLength) ? Number(rawLength) : undefined;
  if (
    options.maxBytes !== undefined &&
    contentLength !== undefined &&
    contentLength > options.maxBytes
  ) {
    discard(exchange);
    throw tooLarge(options.maxBytes);
  }

  const body = streamBody(exchange, {
    maxBytes: options.maxBytes,
    idleTimeoutMs,
    host: url.host,
    signal: deadline.signal,
    onClose: deadline.dispose,
  });
  const finalUrl = new URL(url.href);
  finalUrl.username = '';
  finalUrl.password = '';

  return {
    body,
    status: res.statusCode ?? 200,
    finalUrl: finalUrl.href,
    filename: pickFilename(res.headers['content-disposition'], url),
    contentType: res.headers['content-type'],
    contentLength,
  };
}

function parseHttpUrl(text: string, base: URL | undefined): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw base === undefined ? invalidUrl() : failure('The URL redirected to an invalid location.');
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw schemeRefused(url.protocol, base !== undefined);
  }

  return url;
}

function buildHeaders(
  url: URL,
  options: OpenUrlOptions,
  carrySecrets: boolean,
): Record<string, string> {
  const headers: Record<string, string> = {
    'user-agent': options.userAgent ?? DEFAULT_USER_AGENT,
    'accept-encoding': 'identity',
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const key = name.toLowerCase();
    if (!DROPPED_HEADERS.has(key) && (carrySecrets || !SECRET_HEADERS.has(key))) {
      headers[key] = value;
    }
  }

  if ((url.username !== '' || url.password !== '') && headers.authorization === undefined) {
    const pair = `${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }

  return headers;
}

interface Deadline {
  signal: AbortSignal;
  stopTimer: () => void;
  dispose: () => void;
}

function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// One signal for the whole download: fires on the caller's abort, or when the header deadline
// passes before `stopTimer`.
function createDeadline(timeoutMs: number, external: AbortSignal | undefined): Deadline {
  const controller = new AbortController();
  const onExternal = (): void => controller.abort(cancelled(external?.reason));
  const timer = setTimeout(() => {
    const message = `The URL did not answer within ${seconds(timeoutMs)}.`;
    controller.abort(failure(message, { details: { timeoutMs } }));
  }, timeoutMs);
  if (external?.aborted === true) {
    onExternal();
  } else {
    external?.addEventListener('abort', onExternal, { once: true });
  }

  return {
    signal: controller.signal,
    stopTimer: (): void => clearTimeout(timer),
    dispose: (): void => {
      clearTimeout(timer);
      external?.removeEventListener('abort', onExternal);
    },
  };
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
