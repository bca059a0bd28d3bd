// Requests per minute and API key, counted in Redis so that every gateway shares the count
// (API.md §7): a fixed window that starts at the key's first request, one round trip per request.
import { AppError } from '@convertd/errors';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

import type { Deps } from '../deps';
import { principal } from './auth';

const WINDOW_MS = 60_000;
/** Past this, Redis counts as down: the request goes through uncounted rather than wait. */
const REDIS_DEADLINE_MS = 500;

// Returns the count in the window and the milliseconds it has left. A count that somehow lost
// its expiry gets one again, so a window can never last forever.
const COUNT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`;

/**
 * Counts the request against its key (after authentication) and sets `X-Ratelimit-Limit` and
 * `X-Ratelimit-Remaining`; past the limit, 429 with `Retry-After`. The sync API is not limited,
 * as CloudConvert's is not; RATE_LIMIT_PER_MINUTE=0 turns the limit off.
 */
export function rateLimit(
  deps: Pick<Deps, 'redis' | 'config' | 'logger'>,
): preHandlerAsyncHookHandler {
  const limit = deps.config.rateLimitPerMinute;
  const prefix = `${deps.config.queuePrefix}:ratelimit`;

  return async function limitRate(request: FastifyRequest, reply: FastifyReply) {
    if (limit === 0 || request.isSync) {
      return;
    }

    await countRequest(deps, reply, `${prefix}:${principal(request).keyId}`);
  };
}

/**
 * Counts one request against `bucket` (a key of its own in Redis) with the same limit and
 * headers: signed job URLs count per signing key. Nothing happens when the limit is off.
 */
export async function countRequest(
  deps: Pick<Deps, 'redis' | 'config' | 'logger'>,
  reply: FastifyReply,
  bucket: string,
): Promise<void> {
  const limit = deps.config.rateLimitPerMinute;
  const counted = limit === 0 ? null : await count(deps, bucket);
  if (!counted) {
    return;
  }
  const [used, leftMs] = counted;
  reply.header('x-ratelimit-limit', String(limit));
  reply.header('x-ratelimit-remaining', String(Math.max(0, limit - used)));
  if (used > limit) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(leftMs / 1000))));
    throw new AppError('RATE_LIMIT_EXCEEDED');
  }
}

async function count(
  deps: Pick<Deps, 'redis' | 'logger'>,
  key: string,
): Promise<[number, number] | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      deps.redis.eval(COUNT, 1, key, WINDOW_MS),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer from Redis')), REDIS_DEADLINE_MS);
      }),
    ]);
    const [used, leftMs] = answer as [number, number];
    return [Number(used), Number(leftMs)];
  } catch (err) {
    deps.logger.warn({ err }, 'rate limit not counted: redis unavailable');
    return null;
  } finally {
    clearTimeout(timer);
  }
}
