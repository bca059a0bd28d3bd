// The browser's only way out: a forward proxy on loopback, one per task, that applies the outbound
// URL policy to every connection and connects to the address it checked (no second DNS answer
// can rebind a host to a private address between the check and the connect).
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

import { isAppError } from '@convertd/errors';
import { resolveHost } from '@convertd/outbound';
import type { HostLookup, ResolvedAddress } from '@convertd/outbound';

import type { EngineLogger } from '../logger';

/** What happened to a connection the proxy did not make; read to explain a failed navigation. */
export interface EgressIncident {
  host: string;
  kind: 'refused' | 'unresolved' | 'failed';
  /** Socket error code for `failed` (ECONNREFUSED, ETIMEDOUT, ...). */
  code?: string;
}

export interface EgressProxyOptions {
  allowPrivate: boolean;
  logger?: EngineLogger | undefined;
  /** Replaces the system resolver (tests). */
  lookup?: HostLookup;
}

const CONNECT_TIMEOUT_MS = 30_000;
// Headers that belong to one hop, and the ones meant for this proxy.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export class EgressProxy {
  readonly incidents: EgressIncident[] = [];
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor(
    private readonly server: http.Server,
    private readonly options: EgressProxyOptions,
  ) {}

  static async start(options: EgressProxyOptions): Promise<EgressProxy> {
    const server = http.createServer();
    const proxy = new EgressProxy(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void proxy.forward(req, res);
    });
    server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      void proxy.tunnel(req, socket, head);
    });
    server.on('connection', (socket: Socket) => proxy.track(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy.port = (server.address() as AddressInfo).port;

    return proxy;
  }

  /** The value for the browser's proxy setting. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops listening and cuts every connection still open, in both directions. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await closed;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    // A reset from either side is an ordinary end of a connection here.
    socket.on('error', () => undefined);
  }

  /** Plain http: the browser sends the absolute URL; we send the request on from a checked address. */
  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();

      return;
    }

    if (url.protocol !== 'http:') {
      res.writeHead(400).end();

      return;
    }

    const port = url.port === '' ? 80 : Number(url.port);
    const address = await this.check(url.hostname, port);
    if (address === undefined) {
      // No answer at all, so the browser reports a failed load instead of rendering ours.
      req.socket.destroy();

      return;
    }

    const upstream = http.request({
      host: address.address,
      family: address.family,
      port,
      method: req.method,
      path: `${url.pathname}${url.search}`,
      // The request target names the host; a Host header that differs must not win (RFC 9112 3.2.2).
      headers: { ...endToEnd(req.headers), host: url.host },
      agent: false,
      timeout: CONNECT_TIMEOUT_MS,
    });
    upstream.on('socket', (socket: Socket) => this.track(socket));
    upstream.on('timeout', () =>
      upstream.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (!res.headersSent) {
        this.failed(url.host, err);
      }
      req.socket.destroy();
    });
    upstream.on('response', (answer: IncomingMessage) => {
      upstream.setTimeout(0);
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEndRaw(answer.rawHeaders));
      answer.pipe(res);
    });
    req.pipe(upstream);
  }

  /** https and websockets: a CONNECT tunnel to a checked address; TLS stays end to end. */
  private async tunnel(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    this.track(client);
    let target: URL;
    try {
      target = new URL(`http://${req.url ?? ''}`);
    } catch {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');

      return;
    }

    const port = Number(target.port);
    const address = port > 0 ? await this.check(target.hostname, port) : undefined;
    if (address === undefined) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');

      return;
    }

    const upstream = net.connect({
      host: address.address,
      family: address.family,
      port,
      timeout: CONNECT_TIMEOUT_MS,
    });
    this.track(upstream);
    upstream.once('timeout', () =>
      upstream.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      this.failed(target.host, err);
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      upstream.removeAllListeners('error');
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) {
        upstream.write(head);
      }
      upstream.pipe(client);
      client.pipe(upstream);
    });
  }

  /** The address to connect to, or undefined (and an incident) when the policy refuses the host. */
  private async check(hostname: string, port: number): Promise<ResolvedAddress | undefined> {
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    try {
      const addresses = await resolveHost(host, {
        allowPrivate: this.options.allowPrivate,
        lookup: this.options.lookup,
      });
      const first = addresses[0];
      // Even where private addresses are allowed, the page must not drive this proxy itself.
      if (first === undefined || (port === this.port && isLoopback(first.address))) {
        throw new Error('refused');
      }

      return first;
    } catch (err) {
      const kind = isAppError(err) && err.code === 'IMPORT_FAILED' ? 'unresolved' : 'refused';
      this.incidents.push({ host, kind });
      this.options.logger?.debug({ engine: 'chrome', host, kind }, 'connection refused by policy');

      return undefined;
    }
  }

  private failed(host: string, err: NodeJS.ErrnoException): void {
    this.incidents.push({ host, kind: 'failed', code: err.code ?? 'ERROR' });
  }
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

function endToEndRaw(raw: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (!HOP_BY_HOP.has(name.toLowerCase())) {
      kept.push(name, raw[i + 1] ?? '');
    }
  }

  return kept;
}
