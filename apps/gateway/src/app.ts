import { STATUS_CODES } from 'node:http';

import { AppError } from '@convertd/errors';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';

import type { Deletion } from '@convertd/db';

import type { Deps } from './deps';
import { registerBodyParsers } from './plugins/body';
import { registerErrorHandling, sendError } from './plugins/errors';
import { attachSocketIo } from './live/socket-server';
import { isSandboxHost, isSyncHost, originOf } from './plugins/origin';
import type { RouteContext } from './routes/context';
import { urlsFor } from './services/urls';
import { registerFileRoutes } from './routes/files';
import { registerAccountRoutes } from './routes/account';
import { registerHealthRoutes } from './routes/health';
import { registerJobRoutes } from './routes/jobs';
import { registerOperationRoutes } from './routes/operations';
import { registerSignedUrlRoutes } from './routes/signed-urls';
import { registerTaskRoutes } from './routes/tasks';
import { registerUserRoutes } from './routes/users';
import { registerWebhookRoutes } from './routes/webhooks';

export interface AppOptions {
  /** `sync`: the sync API's own port, where GET of a job or task waits until it ends. */
  mode: 'main' | 'sync';
  /** The sandbox API's own port (SANDBOX_PORT, or SANDBOX_SYNC_PORT with mode `sync`). */
  sandbox?: boolean;
}

/**
 * Builds the gateway without listening, so tests can use `inject` or their own port. It speaks
 * HTTPS when `deps.tls` is set; the main API also serves socket.io (live events).
 */
export function buildApp(deps: Deps, options: AppOptions): FastifyInstance {
  const app: FastifyInstance = Fastify({
    ...(deps.tls ? { https: deps.tls } : {}),
    // pino's Logger is a FastifyBaseLogger; the cast keeps FastifyInstance's default generics.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024 * 1024,
    trustProxy: true,
    // Sync waits may last as long as a job does.
    requestTimeout: 0,
    // Download URLs end in the user's file name, which may be long (255 bytes, percent-encoded).
    routerOptions: { maxParamLength: 4096 },
    // Malformed URLs and oversized headers get our JSON error shape too.
    frameworkErrors: (err, _request, reply) => {
      sendError(reply, new AppError('BAD_REQUEST', { message: err.message }));
    },
    clientErrorHandler: (err, socket) => {
      const status = (err as { code?: string }).code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify({
        message: STATUS_CODES[status],
        code: status === 431 ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST',
      });
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
    },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given)
        ? given
        : crypto.randomUUID();
    },
  });
  const onSyncPort = options.mode === 'sync';
  const onSandboxPort = options.sandbox === true;
  // Links from a sync port point at its main API.
  const mainPort = !onSyncPort
    ? null
    : onSandboxPort && deps.config.sandboxPort > 0
      ? deps.config.sandboxPort
      : deps.config.port;

  app.decorateRequest('principal', null);
  app.decorateRequest('isSync', false);
  app.decorateRequest('isSandbox', false);
  app.addHook('onRequest', async (request) => {
    request.isSync = onSyncPort || isSyncHost(request.headers.host);
    request.isSandbox = onSandboxPort || isSandboxHost(request.headers.host);
  });
  registerErrorHandling(app);
  registerBodyParsers(app);

  const ctx: RouteContext = {
    origin: (request) => originOf(request, deps.config, mainPort),
    urls: (request) => urlsFor(deps, originOf(request, deps.config, mainPort)),
    abortOnClose(reply) {
      // The response closes once: when it was sent, or when the client went away before that.
      const controller = new AbortController();
      reply.raw.once('close', () => controller.abort());
      return controller.signal;
    },
    cleanUp: (deletion) => cleanUp(deps, deletion),
  };
  registerHealthRoutes(app, deps);
  registerJobRoutes(app, deps, ctx);
  registerOperationRoutes(app, deps);
  registerTaskRoutes(app, deps, ctx);
  registerUserRoutes(app, deps, ctx);
  registerAccountRoutes(app, deps);
  registerWebhookRoutes(app, deps, ctx);
  registerFileRoutes(app, deps, ctx);
  if (!onSyncPort) {
    attachSocketIo(app, deps);
    registerSignedUrlRoutes(app, deps, ctx);
  }

  return app;
}

async function cleanUp(deps: Deps, deletion: Deletion): Promise<void> {
  try {
    await deps.events.control({ type: 'stop', taskIds: deletion.stoppedTaskIds });
    await deps.storage.delete(deletion.storageKeys);
  } catch (err) {
    deps.logger.warn({ err }, 'clean-up after deletion failed');
  }
}
