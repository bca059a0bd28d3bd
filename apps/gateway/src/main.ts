// Entry point of the gateway: main API on PORT, sync API on SYNC_PORT, and the sandbox API on
// SANDBOX_PORT and SANDBOX_SYNC_PORT when they are set.
import { createLogger, exitOnStartupFailure, loadConfig, onShutdown } from '@convertd/config';
import { createDb, ensureBootstrapKey, ensureDatabase, migrate } from '@convertd/db';
import { pingRedis } from '@convertd/queue';

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
    await ensureBootstrapKey(db, config.bootstrapApiKey, config.defaultCredits);
    await db.$disconnect();
  }

  const deps = await createDeps(config, logger);
  const main = buildApp(deps, { mode: 'main' });
  const sync = buildApp(deps, { mode: 'sync' });
  await main.listen({ port: config.port, host: config.host });
  await sync.listen({ port: config.syncPort, host: config.host });
  const apps = [main, sync];
  for (const [mode, port] of [
    ['main', config.sandboxPort],
    ['sync', config.sandboxSyncPort],
  ] as const) {
    if (port > 0) {
      const sandbox = buildApp(deps, { mode, sandbox: true });
      await sandbox.listen({ port, host: config.host });
      apps.push(sandbox);
    }
  }
  logger.info(
    {
      port: config.port,
      syncPort: config.syncPort,
      sandboxPort: config.sandboxPort || null,
      sandboxSyncPort: config.sandboxSyncPort || null,
      tls: deps.tls !== null,
      publicUrl: config.publicUrl ?? null,
    },
    'gateway ready',
  );

  onShutdown(async (signal) => {
    logger.info({ signal }, 'shutting down');
    deps.waiters.close();
    await Promise.allSettled(apps.map((app) => app.close()));
    await deps.close();
  });
}

main().catch((err: unknown) => exitOnStartupFailure('gateway', logger, err));
