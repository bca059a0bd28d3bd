import { AppError } from '@convertd/errors';
import { findApiKey, type Scope } from '@convertd/db';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

import type { Deps } from '../deps';

export interface Principal {
  userId: number;
  keyId: number;
  scopes: ReadonlySet<string>;
  /** A sandbox key: its jobs and tasks are sandbox ones wherever it is used. */
  sandbox: boolean;
  /** The owner's balance when the request came in. */
  credits: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** `Authorization: Bearer <key>` or the exact 401 of API.md §1.2; then the route's scope or 403. */
export function requireScope(deps: Pick<Deps, 'db'>, scope: Scope): preHandlerAsyncHookHandler {
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const key = match?.[1] ? await findApiKey(deps.db, match[1]) : null;
    if (!key) {
      throw new AppError('UNAUTHENTICATED');
    }
    if (request.isSandbox && !key.sandbox) {
      throw new AppError('UNAUTHENTICATED', {
        message: 'This is the sandbox API: it accepts only sandbox API keys.',
      });
    }
    if (!key.scopes.includes(scope)) {
      throw new AppError('FORBIDDEN', {
        message: `This action is unauthorized: the API key lacks the ${scope} scope.`,
      });
    }

    request.principal = {
      userId: key.userId,
      keyId: key.id,
      scopes: new Set(key.scopes),
      sandbox: key.sandbox,
      credits: key.credits,
    };
  };
}

/** 402 when the balance is used up; sandbox work is free. Before anything is created. */
export function requireCredits(user: Pick<Principal, 'sandbox' | 'credits'>): void {
  if (!user.sandbox && user.credits <= 0) {
    throw new AppError('CREDITS_EXCEEDED');
  }
}

export function principal(request: FastifyRequest): Principal {
  if (!request.principal) {
    throw new AppError('UNAUTHENTICATED');
  }

  return request.principal;
}
