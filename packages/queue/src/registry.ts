import type { Redis } from 'ioredis';

/** What a worker tells the rest of the deployment it can run (refreshed well within `ttlSec`). */
export interface EngineAd {
  engine: string;
  version: string;
  host: string;
}

export async function advertiseEngine(
  redis: Redis,
  prefix: string,
  ad: EngineAd,
  ttlSec: number,
): Promise<void> {
  await redis.set(
    `${prefix}:engines:${ad.engine}:${ad.version}:${ad.host}`,
    JSON.stringify(ad),
    'EX',
    ttlSec,
  );
}

/** Engines advertised by live workers (at most one entry per engine, version and host). */
export async function listEngines(redis: Redis, prefix: string): Promise<EngineAd[]> {
  const ads: EngineAd[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:engines:*`, 'COUNT', 200);
    cursor = next;
    if (keys.length > 0) {
      for (const raw of await redis.mget(...keys)) {
        if (raw) {
          ads.push(JSON.parse(raw) as EngineAd);
        }
      }
    }
  } while (cursor !== '0');

  return ads;
}
