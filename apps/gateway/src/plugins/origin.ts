import type { IncomingHttpHeaders } from 'node:http';

import type { FastifyRequest } from 'fastify';

import type { Config } from '@convertd/config';

declare module 'fastify' {
  interface FastifyRequest {
    /** True when the request came to the sync API (its port or a `sync.` host name). */
    isSync: boolean;
    /**
     * True when the request came to the sandbox API: SANDBOX_PORT, SANDBOX_SYNC_PORT, or a host
     * name `api.sandbox.*`, `sandbox.*`, `sync.api.sandbox.*` (only sandbox keys are accepted).
     */
    isSandbox: boolean;
  }
}

/**
 * The origin put into URLs we return: PUBLIC_URL (SANDBOX_PUBLIC_URL on the sandbox API) when
 * set, else the one the client used, made the main origin: links from the sync API point at the
 * main API, as CloudConvert's do (from a sync port, at `mainPort`, the port of its main API).
 */
export function originOf(request: FastifyRequest, config: Config, mainPort: number | null): string {
  if (request.isSandbox && config.sandboxPublicUrl) {
    return config.sandboxPublicUrl;
  }

  return originFrom(request.headers, request.protocol, config, mainPort);
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
  mainPort: number | null,
): string {
  if (config.publicUrl) {
    return config.publicUrl;
  }

  const forwarded = headerValue(headers['x-forwarded-proto']);
  const proto = forwarded === 'https' || forwarded === 'http' ? forwarded : protocol;
  let host = headerValue(headers['x-forwarded-host']) ?? headers.host ?? `localhost:${config.port}`;
  if (isSyncHost(host)) {
    host = host.slice(5);
  } else if (mainPort !== null) {
    host = host.replace(/:\d+$/, '') + `:${mainPort}`;
  }

  return `${proto}://${host}`;
}

/** The origin exactly as the client used it (scheme and host, proxies' headers honoured). */
export function clientOrigin(request: FastifyRequest, config: Config): string {
  const forwarded = headerValue(request.headers['x-forwarded-proto']);
  const proto = forwarded === 'https' || forwarded === 'http' ? forwarded : request.protocol;
  const host =
    headerValue(request.headers['x-forwarded-host']) ??
    request.headers.host ??
    `localhost:${config.port}`;

  return `${proto}://${host}`;
}

export function isSyncHost(host: string | undefined): boolean {
  return /^sync\./i.test(host ?? '');
}

export function isSandboxHost(host: string | undefined): boolean {
  return /^(sync\.)?(api\.)?sandbox\./i.test(host ?? '');
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(',')[0]?.trim() || undefined;
}
