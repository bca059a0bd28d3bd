import type { FastifyInstance } from 'fastify';
import { Server, type Socket } from 'socket.io';

import type { Deps } from '../deps';
import { originFrom } from '../plugins/origin';
import { authorize, type Grant } from './authorize';

/** Channels one connection may listen on at once (the CLI uses one, the SDK one per object). */
const MAX_CHANNELS_PER_SOCKET = 200;

type LiveDeps = Pick<Deps, 'db' | 'live' | 'config' | 'logger'>;

type Ack = (answer: { ok: boolean; code?: string; message?: string }) => void;

/**
 * Serves socket.io (path /socket.io/, default namespace) on the server of `app`, beside its
 * routes: Engine.IO 4 and 3 clients (node SDK 3.x and 2.x), WebSocket and long-polling. Clients
 * `subscribe` to channels (API.md §5.2); a refused subscription is answered with a
 * `subscription_error` event `(channel, {code, message})` (and through the ack, when given),
 * which the SDKs ignore. Events come from `deps.live`.
 */
export function attachSocketIo(app: FastifyInstance, deps: LiveDeps): Server {
  const io = new Server(app.server, {
    allowEIO3: true,
    serveClient: false,
    // Clients only send small subscribe messages.
    maxHttpBufferSize: 64 * 1024,
  });

  io.on('connection', (socket) => serveConnection(socket, deps));

  // Upgraded connections are not the HTTP server's to close: end them before it closes.
  app.addHook('preClose', (done) => {
    io.local.disconnectSockets(true);
    io.engine.close();
    done();
  });

  return io;
}

/**
 * One client: its messages are handled one after the other (so at most one Postgres check per
 * connection at a time, and an `unsubscribe` never overtakes the `subscribe` before it).
 */
function serveConnection(socket: Socket, deps: LiveDeps): void {
  const origin = originFrom(
    socket.handshake.headers,
    socket.handshake.secure ? 'https' : 'http',
    deps.config,
    null,
  );
  const subscriber = {
    id: socket.id,
    emit: (event: string, channel: string, data: unknown) => {
      socket.emit(event, channel, data);
    },
  };
  let queued = 0;
  let chain = Promise.resolve();
  const inOrder = (step: () => Promise<void>) => {
    queued += 1;
    chain = chain
      .then(step)
      .catch((err: unknown) => deps.logger.error({ err }, 'socket message failed'))
      .finally(() => {
        queued -= 1;
      });
  };

  socket.on('subscribe', (payload: unknown, ack?: unknown) => {
    const answer = typeof ack === 'function' ? (ack as Ack) : undefined;
    if (deps.live.channelsOf(socket.id) + queued >= MAX_CHANNELS_PER_SOCKET) {
      refuse(socket, answer, {
        ok: false,
        channel: channelOf(payload),
        code: 'INVALID_DATA',
        message: `At most ${MAX_CHANNELS_PER_SOCKET} channels per connection.`,
      });
      return;
    }

    inOrder(async () => {
      let grant: Grant;
      try {
        grant = await authorize(deps.db, payload);
      } catch (err) {
        deps.logger.error({ err }, 'socket subscription failed');
        grant = {
          ok: false,
          channel: channelOf(payload),
          code: 'INTERNAL_ERROR',
          message: 'Server Error',
        };
      }
      if (!socket.connected) {
        return;
      }
      if (!grant.ok) {
        deps.logger.debug(
          { channel: grant.channel?.slice(0, 200) ?? null, code: grant.code },
          'socket subscription refused',
        );
        refuse(socket, answer, grant);
        return;
      }
      deps.live.add(grant.channel, { subscriber, keyId: grant.keyId, origin });
      answer?.({ ok: true });
    });
  });

  socket.on('unsubscribe', (payload: unknown, ack?: unknown) => {
    inOrder(async () => {
      const channel = channelOf(payload);
      if (channel !== null) {
        deps.live.remove(channel, socket.id);
      }
      if (typeof ack === 'function') {
        (ack as Ack)({ ok: true });
      }
    });
  });

  socket.on('disconnect', () => deps.live.drop(socket.id));
}

function refuse(socket: Socket, answer: Ack | undefined, grant: Grant & { ok: false }): void {
  socket.emit('subscription_error', grant.channel, { code: grant.code, message: grant.message });
  answer?.({ ok: false, code: grant.code, message: grant.message });
}

function channelOf(payload: unknown): string | null {
  const channel = (payload as { channel?: unknown } | null)?.channel;
  return typeof channel === 'string' ? channel : null;
}
