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

/** Engine name -> the versions live workers run it in. */
export type ServedVersions = ReadonlyMap<string, readonly string[]>;

/** The engines and versions of what live workers advertise. */
export function servedVersions(ads: readonly EngineAd[]): Map<string, string[]> {
  const versions = new Map<string, string[]>();
  for (const ad of ads) {
    versions.set(ad.engine, [...(versions.get(ad.engine) ?? []), ad.version]);
  }

  return versions;
}

/**
 * The engines (and their versions) live workers serve, refreshed in the background, for the
 * router: a pair goes to the best engine that somebody actually runs, in a version somebody
 * runs. Undefined until the first read.
 */
export class ServedEngines {
  private served: ServedVersions | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  get(): ServedVersions | undefined {
    return this.served;
  }

  async refresh(): Promise<void> {
    const ads = await listEngines(this.redis, this.prefix);
    this.served = ads.length > 0 ? servedVersions(ads) : undefined;
  }

  start(intervalMs: number, onError: (err: unknown) => void): void {
    void this.refresh().catch(onError);
    this.timer = setInterval(() => void this.refresh().catch(onError), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
