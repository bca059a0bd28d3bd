import { STATUS_CODES } from 'node:http';

import { AppError, isAppError } from '@convertd/errors';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';

/** Every error, on every route, is JSON with a code and a standard reason phrase (API.md §10.7). */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    sendError(
      reply,
      new AppError('NOT_FOUND', {
        message: `No route for ${request.method} ${request.url.split('?')[0]}.`,
      }),
    );
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isAppError(err)) {
      if (err.statusCode >= 500) {
        request.log.error({ err }, 'request failed');
      }
      sendError(reply, err);
      return;
    }

    const mapped = fromFastify(err);
    if (mapped) {
      sendError(reply, mapped);
      return;
    }

    request.log.error({ err }, 'unexpected error');
    sendError(reply, new AppError('INTERNAL_ERROR'));
  });
}

export function sendError(reply: FastifyReply, err: AppError): void {
  const body: Record<string, unknown> = { message: err.message, code: err.code };
  if (err.errors) {
    body.errors = err.errors;
  }

  void reply
    .code(err.statusCode)
    .type('application/json')
    .header('cache-control', 'no-cache, private')
    .send(JSON.stringify(body));
}

function fromFastify(err: FastifyError): AppError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('INVALID_JSON');
    default:
      break;
  }
  if (err instanceof SyntaxError) {
    return new AppError('INVALID_JSON');
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError('BAD_REQUEST', {
      statusCode: err.statusCode,
      message: STATUS_CODES[err.statusCode] ?? 'Bad request.',
    });
  }

  return null;
}
