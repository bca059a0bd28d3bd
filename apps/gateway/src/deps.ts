import { randomBytes } from 'node:crypto';

import { creditsFor, PayloadCipher } from '@convertd/api';
import type { Config, Logger } from '@convertd/config';
import { createDb, getOrCreateSetting, payloadKeys, type Db, type Router } from '@convertd/db';
import { connectRedis, Dispatcher, EventBus, makeRouter, ServedEngines } from '@convertd/queue';
import { createStorage, type Storage } from '@convertd/storage';
import type { Redis } from 'ioredis';

import { LiveHub } from './live/hub';
import { readTls, type TlsFiles } from './services/tls';
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
  /** Socket.io subscriptions of this process and the fan-out of events to them. */
  live: LiveHub;
  /** Certificate and key read from TLS_CERT_FILE / TLS_KEY_FILE; null: plain HTTP. */
  tls: TlsFiles | null;
  /** Key of the HMAC that signs upload and download URLs; shared by every process via Postgres. */
  urlSecret: string;
  /** Seals the secret fields of payloads as tasks are written. */
  cipher: PayloadCipher;
  route: Router;
  close(): Promise<void>;
}

export async function createDeps(config: Config, logger: Logger): Promise<Deps> {
  const tls = await readTls(config);
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
  const { keys, generated } = await payloadKeys(
    db,
    config.encryptionKey,
    config.previousEncryptionKeys,
  );
  if (generated) {
    logger.warn('CONVERTD_ENCRYPTION_KEY unset: payload secrets use a key kept in the database');
  }
  const waiters = new Waiters(events);
  const live = new LiveHub({ db, logger, config, urlSecret, events });
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
    live,
    tls,
    urlSecret,
    cipher: new PayloadCipher(keys),
    route: Object.assign(
      makeRouter(config.engineDefaultVersions, () => served.get()),
      // Instant tasks (inline imports, export/url) are priced like the tasks a worker runs.
      { creditsOf: (operation: string) => creditsFor(config.credits, operation, 0) },
    ),
    async close() {
      served.stop();
      waiters.close();
      live.close();
      await dispatcher.close();
      await db.$disconnect();
      storage.close?.();
      for (const conn of [redis, subscriber, bullConnection]) {
        conn.disconnect();
      }
    },
  };
}
