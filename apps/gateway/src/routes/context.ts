import type { FastifyReply, FastifyRequest } from 'fastify';

import type { Urls } from '@convertd/api';
import type { Deletion } from '@convertd/db';

/** What routes need from the app around them. */
export interface RouteContext {
  origin(request: FastifyRequest): string;
  /** The origin plus the signer of our upload and download paths. */
  urls(request: FastifyRequest): Urls;
  /** A signal that aborts when the client closes the connection (ends sync waits). */
  abortOnClose(reply: FastifyReply): AbortSignal;
  /** Stops running tasks and removes stored files after a deletion committed. */
  cleanUp(deletion: Deletion): Promise<void>;
}
