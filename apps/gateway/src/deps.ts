import { randomBytes } from 'node:crypto';

import type { Config, Logger } from '@convertd/config';
import { createDb, getOrCreateSetting, type Db, type Router } from '@convertd/db';
import { connectRedis, Dispatcher, EventBus, makeRouter, ServedEngines } from '@convertd/queue';
import { createStorage, type Storage } from '@convertd/storage';
import type { Redis } from 'ioredis';

import { Waiters } from './services/waiters';

/** Everything the routes use, built once per process and closed on shutdown. */
export interface Deps {
  config: Config;
  logger: Logger;
  db: Db;
  redis: Redis;
  subscriber: Redis;
  dispatcher: Dispatcher;
  events: EventBus;
  storage: Storage;
  waiters: Waiters;
  /** Key of the HMAC that signs upload and download URLs; shared by every process via Postgres. */
  urlSecret: string;
  route: Router;
  close(): Promise<void>;
}

export async function createDeps(config: Config, logger: Logger): Promise<Deps> {
  const db = createDb(config.databaseUrl);
  const redis = connectRedis(config.redisUrl);
  const subscriber = connectRedis(config.redisUrl, { blocking: true });
  for (const conn of [redis, subscriber]) {
    conn.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  }
  const bullConnection = connectRedis(config.redisUrl, { blocking: true });
  bullConnection.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  const dispatcher = new Dispatcher(bullConnection, config.queuePrefix);
  const events = new EventBus(redis, subscriber, config.queuePrefix);
  await events.start();
  const storage = await createStorage({
    driver: config.storageDriver,
    dataDir: config.dataDir,
    s3: config.s3,
  });
  const urlSecret = await getOrCreateSetting(db, 'url_signing_secret', () =>
    randomBytes(32).toString('hex'),
  );
  const waiters = new Waiters(events);
  const served = new ServedEngines(redis, config.queuePrefix);
  served.start(5000, (err) => logger.warn({ err }, 'reading the served engines failed'));

  return {
    config,
    logger,
    db,
    redis,
    subscriber,
    dispatcher,
    events,
    storage,
    waiters,
    urlSecret,
    route: makeRouter(config.engineDefaultVersions, () => served.get()),
    async close() {
      served.stop();
      waiters.close();
      await dispatcher.close();
      await db.$disconnect();
      storage.close?.();
      for (const conn of [redis, subscriber, bullConnection]) {
        conn.disconnect();
      }
    },
  };
}
