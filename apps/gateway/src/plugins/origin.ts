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
  if (config.publicUrl) {
    return config.publicUrl;
  }

  const forwarded = headerValue(request.headers['x-forwarded-proto']);
  const proto = forwarded === 'https' || forwarded === 'http' ? forwarded : request.protocol;
  let host =
    headerValue(request.headers['x-forwarded-host']) ??
    request.headers.host ??
    `localhost:${config.port}`;
  if (/^sync\./i.test(host)) {
    host = host.slice(5);
  } else if (onSyncPort) {
    host = host.replace(/:\d+$/, '') + `:${config.port}`;
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

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(',')[0]?.trim() || undefined;
}
