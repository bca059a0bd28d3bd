// Who may listen on a channel: the `subscribe` message carries the bearer key (API.md §5.2).
import { findApiKey, type Db } from '@convertd/db';
import type { ErrorCode } from '@convertd/errors';

import { parseChannel } from './channels';

export type Grant =
  | { ok: true; channel: string; keyId: number }
  | { ok: false; channel: string | null; code: ErrorCode; message: string };

/**
 * Checks one `subscribe` payload: `{channel, auth: {headers: {Authorization: "Bearer KEY"}}}`.
 * The key must be live and hold `task.read`; job and task channels must name an object of the
 * key's user, user channels that user. A channel that exists for someone else is refused exactly
 * like one that does not exist, so nothing is learnt from the answer.
 */
export async function authorize(db: Db, payload: unknown): Promise<Grant> {
  const body = isObject(payload) ? payload : {};
  const channel = typeof body.channel === 'string' ? body.channel : null;
  const refuse = (code: ErrorCode, message: string): Grant => ({
    ok: false,
    channel,
    code,
    message,
  });
  if (channel === null) {
    return refuse('INVALID_DATA', 'subscribe needs {channel, auth: {headers: {Authorization}}}.');
  }

  const auth = isObject(body.auth) && isObject(body.auth.headers) ? body.auth.headers : {};
  const header = auth.Authorization ?? auth.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  const key = match?.[1] ? await findApiKey(db, match[1]) : null;
  if (!key) {
    return refuse('UNAUTHENTICATED', 'Unauthenticated.');
  }
  if (!key.scopes.includes('task.read')) {
    return refuse(
      'FORBIDDEN',
      'This action is unauthorized: the API key lacks the task.read scope.',
    );
  }

  const parsed = parseChannel(channel);
  if (parsed === null) {
    return refuse('INVALID_DATA', `Unknown channel name: ${channel.slice(0, 100)}.`);
  }

  let mine: boolean;
  switch (parsed.kind) {
    case 'job':
    case 'job-tasks':
      mine = (await db.job.count({ where: { id: parsed.id, userId: key.userId } })) > 0;
      break;
    case 'task':
      mine = (await db.task.count({ where: { id: parsed.id, userId: key.userId } })) > 0;
      break;
    case 'user-jobs':
    case 'user-tasks':
      mine = parsed.id === key.userId;
      break;
  }

  return mine ? { ok: true, channel, keyId: key.id } : refuse('NOT_FOUND', 'Not found.');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
