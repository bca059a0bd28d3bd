// Entry point of a worker process.
import { createLogger, exitOnStartupFailure, loadConfig, onShutdown } from '@convertd/config';
import { ensureDatabase, migrate } from '@convertd/db';
import { pingRedis } from '@convertd/queue';

import { startWorker } from './runtime';

const logger = createLogger('worker');

async function main(): Promise<void> {
  const config = loadConfig();
  await ensureDatabase(config.databaseUrl);
  await migrate(config.databaseUrl);
  await pingRedis(config.redisUrl);
  const runtime = await startWorker(config, logger);

  onShutdown(async (signal) => {
    logger.info({ signal }, 'shutting down: finishing running tasks');
    await runtime.close();
  });
}

process.on('unhandledRejection', (err) => {
  logger.fatal({ err }, 'unhandled rejection');
  process.exit(1);
});

main().catch((err: unknown) => exitOnStartupFailure('worker', logger, err));
