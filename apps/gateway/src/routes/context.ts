import type { FastifyRequest } from 'fastify';

import type { Deletion } from '@convertd/db';

/** What routes need from the app around them. */
export interface RouteContext {
  origin(request: FastifyRequest): string;
  /** A signal that aborts when the client closes the connection (ends sync waits). */
  abortOnClose(request: FastifyRequest): AbortSignal;
  /** Stops running tasks and removes stored files after a deletion committed. */
  cleanUp(deletion: Deletion): Promise<void>;
}
