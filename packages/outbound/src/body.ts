// The body stream handed to callers: byte cap, idle timer and clean teardown.
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';

import { cancelled, failure, seconds, tooLarge } from './failures';
import type { Exchange } from './exchange';

export interface BodyOptions {
  maxBytes: number | undefined;
  idleTimeoutMs: number;
  host: string;
  /** Aborts the body too, even once the response has fully arrived but is not yet read. */
  signal: AbortSignal;
  onClose: () => void;
}

/** Pipes the response into a stream that fails with PAYLOAD_TOO_LARGE past `maxBytes`. */
export function streamBody(exchange: Exchange, options: BodyOptions): Readable {
  const { req, res } = exchange;
  let received = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (options.maxBytes !== undefined && received > options.maxBytes) {
        callback(tooLarge(options.maxBytes));

        return;
      }

      callback(null, chunk);
    },
  });
  const fail = (err: Error): void => {
    if (!body.destroyed) {
      body.destroy(err);
    }
    exchange.abort(err);
  };

  // A socket timeout would also fire while the caller applies backpressure, so the idle timer
  // runs only while the response is flowing.
  req.setTimeout(0);
  const disarm = (): void => clearTimeout(idleTimer);
  const arm = (): void => {
    disarm();
    idleTimer = setTimeout(() => {
      fail(
        failure(
          `The host ${options.host} stopped sending data for ${seconds(options.idleTimeoutMs)}.`,
        ),
      );
    }, options.idleTimeoutMs);
  };
  res.on('data', arm);
  res.on('resume', arm);
  res.on('pause', disarm);
  res.on('end', disarm);
  res.on('error', (err) => fail(exchange.failure() ?? truncated(options.host, err)));
  res.on('close', () => {
    if (!res.complete) {
      fail(exchange.failure() ?? truncated(options.host, undefined));
    }
  });
  const onAbort = (): void => fail(cancelled(options.signal.reason));
  options.signal.addEventListener('abort', onAbort, { once: true });
  body.on('close', () => {
    options.signal.removeEventListener('abort', onAbort);
    disarm();
    if (!res.complete) {
      req.destroy();
    }
    options.onClose();
  });
  arm();
  res.pipe(body);
  if (options.signal.aborted) {
    onAbort();
  }

  return body;
}

function truncated(host: string, cause: unknown): Error {
  return failure(`The connection to ${host} closed before the whole file was received.`, { cause });
}
