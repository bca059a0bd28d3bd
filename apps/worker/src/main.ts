// Entry point of a worker process.
import { ConfigError, createLogger, loadConfig } from '@convertd/config';
import { DatabaseUnreachableError, ensureDatabase, migrate } from '@convertd/db';
import { pingRedis, RedisUnreachableError } from '@convertd/queue';

import { startWorker } from './runtime';

const logger = createLogger('worker');

async function main(): Promise<void> {
  const config = loadConfig();
  await ensureDatabase(config.databaseUrl);
  await migrate(config.databaseUrl);
  await pingRedis(config.redisUrl);
  const runtime = await startWorker(config, logger);

  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing running tasks');
    await runtime.close();
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

process.on('unhandledRejection', (err) => {
  logger.fatal({ err }, 'unhandled rejection');
  process.exit(1);
});

main().catch((err: unknown) => {
  if (
    err instanceof ConfigError ||
    err instanceof DatabaseUnreachableError ||
    err instanceof RedisUnreachableError
  ) {
    console.error(`convertd worker: ${err.message}`);
  } else {
    logger.fatal({ err }, 'worker failed to start');
  }
  process.exit(1);
});
