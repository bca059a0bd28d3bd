import type { FastifyInstance } from 'fastify';

import { AppError } from '@convertd/errors';

/**
 * SDKs send POSTs with no body and no Content-Type (node, cancel/retry), JSON on GET and DELETE
 * (Python), and `[]` for an empty task map (PHP): an empty body is `{}` whatever the type says.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    done(null, parseJson(body as string));
  });
  // The upload route reads the raw stream itself; nothing may buffer it here.
  app.addContentTypeParser('multipart/form-data', (_request, _payload, done) => {
    done(null, undefined);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') {
    return {};
  }

  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('INVALID_JSON');
  }
}
