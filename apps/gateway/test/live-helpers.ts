// Socket.io clients of both protocol generations, recording what the server sends them.
import { createRequire } from 'node:module';

import { io } from 'socket.io-client';

export const EVENTS = [
  'job.created',
  'job.updated',
  'job.finished',
  'job.failed',
  'task.created',
  'task.updated',
  'task.finished',
  'task.failed',
  'subscription_error',
] as const;

export interface Received {
  event: string;
  channel: unknown;
  data: any;
}

export interface Answer {
  ok: boolean;
  code?: string;
  message?: string;
}

export interface LiveClient {
  /** Everything received so far, in order. */
  readonly log: Received[];
  /** Sends `subscribe` as the SDKs do and resolves with the server's acknowledgement. */
  subscribe(channel: string, key: string): Promise<Answer>;
  unsubscribe(channel: string): Promise<Answer>;
  /** The first `event` on `channel` received so far or from now on. */
  next(event: string, channel: string): Promise<Received>;
  close(): void;
}

export interface ConnectOptions {
  /** `v4`: socket.io-client 4 (Engine.IO 4); `v2`: socket.io-client 2 (Engine.IO 3). */
  version?: 'v4' | 'v2';
  /** Default: WebSocket only, like the SDKs and the CLI. */
  transports?: string[];
  headers?: Record<string, string>;
  /** CA to trust for wss (PEM). */
  ca?: string;
}

interface AnySocket {
  on(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  close(): unknown;
}

const requireHere = createRequire(import.meta.url);

export function connect(url: string, options: ConnectOptions = {}): LiveClient {
  const settings = {
    transports: options.transports ?? ['websocket'],
    forceNew: true,
    reconnection: false,
    ...(options.headers ? { extraHeaders: options.headers } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
  };
  const socket: AnySocket =
    options.version === 'v2'
      ? (requireHere('socket.io-client-v2') as (u: string, o: object) => AnySocket)(url, settings)
      : io(url, settings);

  const log: Received[] = [];
  const waiting: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  const record = (event: string, channel: unknown, data: unknown) => {
    const received = { event, channel, data };
    log.push(received);
    for (const w of waiting.filter((x) => x.match(received))) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(received);
    }
  };
  for (const event of EVENTS) {
    socket.on(event, (channel: unknown, data: unknown) => record(event, channel, data));
  }

  return {
    log,
    subscribe(channel, key) {
      return new Promise((resolve) => {
        socket.emit(
          'subscribe',
          { channel, auth: { headers: { Authorization: `Bearer ${key}` } } },
          (answer: Answer) => resolve(answer),
        );
      });
    },
    unsubscribe(channel) {
      return new Promise((resolve) => {
        socket.emit('unsubscribe', { channel }, (answer: Answer) => resolve(answer));
      });
    },
    next(event, channel) {
      const match = (r: Received) => r.event === event && r.channel === channel;
      const seen = log.find(match);
      return seen
        ? Promise.resolve(seen)
        : new Promise((resolve) => waiting.push({ match, resolve }));
    },
    close() {
      socket.close();
    },
  };
}

/** Signed URLs differ between two showings only in their expiry and signature. */
export function unsigned(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value).replace(/expires=\d+&signature=[0-9a-f]+/g, 'expires=E&signature=S'),
  );
}
