// One HTTP exchange, connected only to addresses that were checked before (DNS pinning).
import http from 'node:http';
import https from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';

import { AppError } from '@convertd/errors';

import { cancelled, connectionFailure, failure, seconds } from './failures';
import type { ResolvedAddress } from './types';

export interface ExchangeTarget {
  url: URL;
  addresses: ResolvedAddress[];
  headers: Record<string, string>;
  signal: AbortSignal;
  idleTimeoutMs: number;
  /** GET unless given; a body is sent with its exact length. */
  method?: 'GET' | 'POST';
  body?: Buffer;
}

/** A request whose response headers arrived; `failure()` tells why it was torn down, if it was. */
export interface Exchange {
  req: ClientRequest;
  res: IncomingMessage;
  failure: () => Error | undefined;
  abort: (err: Error) => void;
}

/** Sends the request (a GET by default) and resolves when the response headers arrive. */
export function startExchange(target: ExchangeTarget): Promise<Exchange> {
  const { url, signal, idleTimeoutMs } = target;

  return new Promise((resolve, reject) => {
    let failed: Error | undefined;
    let req: ClientRequest;
    try {
      req = (url.protocol === 'https:' ? https : http).request({
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: target.method ?? 'GET',
        headers:
          target.body === undefined
            ? target.headers
            : { ...target.headers, 'content-length': String(target.body.length) },
        // No pooling: a kept-alive socket must never outlive the policy decision that opened it.
        agent: false,
        lookup: pinnedLookup(target.addresses),
      });
    } catch (err) {
      reject(
        new AppError('INVALID_DATA', { message: 'The request headers are not valid.', cause: err }),
      );

      return;
    }

    const abort = (err: Error): void => {
      failed ??= err;
      req.destroy(err);
    };
    const onAbort = (): void => abort(cancelled(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => signal.removeEventListener('abort', onAbort));
    req.setTimeout(idleTimeoutMs, () =>
      abort(failure(`The host ${url.host} sent nothing for ${seconds(idleTimeoutMs)}.`)),
    );
    req.on('error', (err) => reject(failed ?? connectionFailure(err, url.host)));
    req.once('response', (res) => resolve({ req, res, failure: () => failed, abort }));
    if (signal.aborted) {
      onAbort();
    } else {
      req.end(target.body);
    }
  });
}

/** Drops a response that will not be read (redirects, errors). */
export function discard(exchange: Exchange): void {
  exchange.res.on('error', () => undefined);
  exchange.req.destroy();
}

// Answers the socket's lookup from the checked list, so no second resolution can rebind the host.
// With `all` (Node's happy eyeballs) every checked address is offered, in resolver order.
function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const wanted =
      family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
    const first = wanted[0];
    if (first === undefined) {
      callback(
        Object.assign(new Error('No checked address of this family.'), { code: 'ENOTFOUND' }),
        '',
      );

      return;
    }

    if (options.all === true) {
      callback(null, wanted);
    } else {
      callback(null, first.address, first.family);
    }
  };
}
