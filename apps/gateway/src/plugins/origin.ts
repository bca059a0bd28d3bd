import type { IncomingHttpHeaders } from 'node:http';

import type { FastifyRequest } from 'fastify';

import type { Config } from '@convertd/config';

declare module 'fastify' {
  interface FastifyRequest {
    /** True when the request came to the sync API (its port or a `sync.` host name). */
    isSync: boolean;
  }
}

/**
 * The origin put into URLs we return: PUBLIC_URL when set, else the one the client used, made
 * the main origin (links from the sync API point at the main API, as CloudConvert's do).
 */
export function originOf(request: FastifyRequest, config: Config, onSyncPort: boolean): string {
  return originFrom(request.headers, request.protocol, config, onSyncPort);
}

/**
 * `originOf` for a connection that is not a Fastify request (a socket.io handshake). A
 * `socketio.` host name is kept: the client just reached this port through it, whereas the name
 * without the prefix may not be ours (`socketio.cloudconvert.com` pointed at convertd).
 */
export function originFrom(
  headers: IncomingHttpHeaders,
  protocol: 'http' | 'https',
  config: Config,
  onSyncPort: boolean,
): string {
  if (config.publicUrl) {
    return config.publicUrl;
  }

  const forwarded = headerValue(headers['x-forwarded-proto']);
  const proto = forwarded === 'https' || forwarded === 'http' ? forwarded : protocol;
  let host = headerValue(headers['x-forwarded-host']) ?? headers.host ?? `localhost:${config.port}`;
  if (isSyncHost(host)) {
    host = host.slice(5);
  } else if (onSyncPort) {
    host = host.replace(/:\d+$/, '') + `:${config.port}`;
  }

  return `${proto}://${host}`;
}

export function isSyncHost(host: string | undefined): boolean {
  return /^sync\./i.test(host ?? '');
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(',')[0]?.trim() || undefined;
}
