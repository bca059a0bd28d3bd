// Entry point of the gateway: main API on PORT, sync API on SYNC_PORT.
import { ConfigError, createLogger, loadConfig } from '@convertd/config';
import {
  createDb,
  DatabaseUnreachableError,
  ensureBootstrapKey,
  ensureDatabase,
  migrate,
} from '@convertd/db';
import { pingRedis, RedisUnreachableError } from '@convertd/queue';

import { buildApp } from './app';
import { createDeps } from './deps';

const logger = createLogger('gateway');

async function main(): Promise<void> {
  const config = loadConfig();
  await ensureDatabase(config.databaseUrl);
  const { applied } = await migrate(config.databaseUrl);
  if (applied.length > 0) {
    logger.info({ applied }, 'migrations applied');
  }
  await pingRedis(config.redisUrl);
  if (config.bootstrapApiKey) {
    const db = createDb(config.databaseUrl, { max: 1 });
    await ensureBootstrapKey(db, config.bootstrapApiKey);
    await db.$disconnect();
  }

  const deps = await createDeps(config, logger);
  const main = buildApp(deps, { mode: 'main' });
  const sync = buildApp(deps, { mode: 'sync' });
  await main.listen({ port: config.port, host: config.host });
  await sync.listen({ port: config.syncPort, host: config.host });
  logger.info(
    { port: config.port, syncPort: config.syncPort, publicUrl: config.publicUrl ?? null },
    'gateway ready',
  );

  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    deps.waiters.close();
    await Promise.allSettled([main.close(), sync.close()]);
    await deps.close();
    process.exit(0);
  };
  // Repeated signals (a process group and a supervisor both forwarding one) must not cut the
  // graceful stop short: only the first one counts.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopping) {
      stopping = true;
      void stop(signal);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((err: unknown) => {
  if (
    err instanceof ConfigError ||
    err instanceof DatabaseUnreachableError ||
    err instanceof RedisUnreachableError
  ) {
    console.error(`convertd gateway: ${err.message}`);
  } else {
    logger.fatal({ err }, 'gateway failed to start');
  }
  process.exit(1);
});
