import type { Readable } from 'node:stream';

/** One answer of a host-name lookup. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all of its addresses; replaceable so tests need no real DNS. */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

/** Options of `openUrl`. */
export interface OpenUrlOptions {
  /** Lets the URL reach loopback, private and other non-public addresses (trusted setups only). */
  allowPrivate: boolean;
  /** Extra request headers; Authorization and Cookie are dropped on a cross-origin redirect. */
  headers?: Record<string, string>;
  /** Redirects to follow before failing; default 5. */
  maxRedirects?: number;
  /** Deadline for the response headers, across DNS, connects and all redirects; default 30000. */
  timeoutMs?: number;
  /** Longest pause while the connection or the body stream is waiting on the remote; default timeoutMs. */
  idleTimeoutMs?: number;
  /** Largest body accepted; the body stream fails with PAYLOAD_TOO_LARGE past it. */
  maxBytes?: number;
  signal?: AbortSignal;
  userAgent?: string;
  /** Replaces the system resolver (tests). */
  lookup?: HostLookup;
}

/** An opened response: the body still has to be read (or destroyed) by the caller. */
export interface OpenUrlResult {
  body: Readable;
  status: number;
  /** The URL after redirects, without credentials. */
  finalUrl: string;
  filename: string | undefined;
  contentType: string | undefined;
  contentLength: number | undefined;
}
