import type { Redis } from 'ioredis';

/** How long an upload stays "alive" without a refresh from the gateway that receives it. */
export const UPLOAD_LEASE_SEC = 60;

export function uploadLeaseKey(prefix: string, taskId: string): string {
  return `${prefix}:uploads:${taskId}`;
}

/**
 * Held by the gateway while it receives an upload: a task whose lease lapsed lost its gateway
 * mid-upload, and the sweep gives it back to `waiting` so the client can upload again.
 */
export function holdUploadLease(
  redis: Redis,
  prefix: string,
  taskId: string,
): { release(): Promise<void> } {
  const key = uploadLeaseKey(prefix, taskId);
  const refresh = () => redis.set(key, '1', 'EX', UPLOAD_LEASE_SEC).catch(() => undefined);
  void refresh();
  const timer = setInterval(() => void refresh(), (UPLOAD_LEASE_SEC * 1000) / 3);
  timer.unref();

  return {
    async release() {
      clearInterval(timer);
      await redis.del(key).catch(() => undefined);
    },
  };
}
