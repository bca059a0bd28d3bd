// A worker process: consumes the queues of the engines found on this machine, plus `io`.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { creditsFor, PayloadCipher } from '@convertd/api';
import { engineConcurrencyOf, type Config, type Logger } from '@convertd/config';
import { createDb, payloadKeys, type Db } from '@convertd/db';
import { createEngines, type Engine } from '@convertd/engines';
import { AppError } from '@convertd/errors';
import {
  advertiseEngine,
  connectRedis,
  Dispatcher,
  EventBus,
  IO_QUEUE,
  makeRouter,
  ServedEngines,
  engineQueues,
  type TaskJobData,
} from '@convertd/queue';
import { createStorage } from '@convertd/storage';
import { WebhookDispatcher } from '@convertd/webhooks';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';

import type { DetectedEngine, WorkerContext } from './context';
import { runTask, type Running } from './runner';
import { startSweeps } from './sweep';

const AD_TTL_SEC = 30;

export interface WorkerRuntime {
  readonly context: WorkerContext;
  readonly queues: string[];
  close(): Promise<void>;
}

export interface WorkerOptions {
  /** Engines to offer instead of the ones detected on this machine (tests). */
  engines?: Engine[];
  hostName?: string;
}

export async function startWorker(
  config: Config,
  logger: Logger,
  options: WorkerOptions = {},
): Promise<WorkerRuntime> {
  const hostName = options.hostName ?? `${os.hostname()}-${process.pid}`;
  const db = createDb(config.databaseUrl);
  const redis = connectRedis(config.redisUrl, { blocking: true });
  const subscriber = connectRedis(config.redisUrl, { blocking: true });
  for (const conn of [redis, subscriber]) {
    conn.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  }
  const dispatcher = new Dispatcher(redis, config.queuePrefix);
  const events = new EventBus(redis, subscriber, config.queuePrefix);
  await events.start();
  const storage = await createStorage({
    driver: config.storageDriver,
    dataDir: config.dataDir,
    s3: config.s3,
  });
  const cipher = await cipherFor(db, config, logger);
  // Alive in Redis before its dir exists, so that no other worker takes the dir for a dead one's.
  await redis.set(
    `${config.queuePrefix}:workers:${hostName}`,
    JSON.stringify({ host: hostName }),
    'EX',
    AD_TTL_SEC,
  );
  const tasksDir = await prepareTasksDir(config, redis, hostName, logger);
  const engines = await detectEngines(
    options.engines ??
      createEngines({
        workDir: config.workDir,
        tasksDir,
        allowPrivateUrls: config.allowPrivateUrls,
        concurrency: (engine) => engineConcurrencyOf(config, engine),
        libreoffice: {
          restartAfter: config.libreofficeRestartAfter,
          maxRssBytes: config.libreofficeMaxRssBytes,
        },
        chrome: { restartAfter: config.chromeRestartAfter },
      }),
    logger,
  );
  // Warm pools start before the worker takes its first task.
  await warmEngines(engines, logger);

  const served = new ServedEngines(redis, config.queuePrefix);
  const context: WorkerContext = {
    config,
    logger,
    db,
    redis,
    storage,
    dispatcher,
    events,
    route: Object.assign(
      makeRouter(config.engineDefaultVersions, () => {
        // This worker's own engines count even before its first advertisement is read back.
        const live = new Map(served.get() ?? []);
        for (const e of engines.values()) {
          live.set(e.name, [...(live.get(e.name) ?? []), e.version]);
        }
        return live;
      }),
      // An instant export that this worker's completion releases is priced like any task.
      { creditsOf: (operation: string) => creditsFor(config.credits, operation, 0) },
    ),
    cipher,
    engines,
    hostName,
    tasksDir,
  };
  const running: Running = new Map();
  events.on('control', (message) => {
    for (const id of message.taskIds) {
      running.get(id)?.abort(new AppError('CANCELLED'));
    }
  });

  const queues = new Map<string, number>([[IO_QUEUE, Math.max(4, config.workerConcurrency * 2)]]);
  for (const e of engines.values()) {
    for (const name of engineQueues(e.name, e.version)) {
      queues.set(name, engineConcurrencyOf(config, e.name));
    }
  }
  const workers = [...queues].map(([name, concurrency]) => {
    const worker = new Worker<TaskJobData>(
      name,
      async (job) => runTask(context, job.data.taskId, running),
      {
        connection: redis,
        prefix: config.queuePrefix,
        concurrency,
        lockDuration: config.lockDurationMs,
        stalledInterval: config.lockDurationMs,
        maxStalledCount: config.maxTaskAttempts,
      },
    );
    worker.on('error', (err) => logger.warn({ err, queue: name }, 'queue worker error'));
    worker.on('failed', (job, err) =>
      logger.error({ err, queue: name, taskId: job?.data.taskId }, 'task runner crashed'),
    );
    return worker;
  });

  const advertise = async () => {
    try {
      await redis.set(
        `${config.queuePrefix}:workers:${hostName}`,
        // Pool state rides along for operators and metrics.
        JSON.stringify({ host: hostName, queues: [...queues.keys()], pools: poolStates(engines) }),
        'EX',
        AD_TTL_SEC,
      );
      for (const e of engines.values()) {
        await advertiseEngine(
          redis,
          config.queuePrefix,
          { engine: e.name, version: e.version, host: hostName },
          AD_TTL_SEC,
        );
      }
      await fs.writeFile(path.join(os.tmpdir(), 'convertd-worker.heartbeat'), String(Date.now()));
    } catch (err) {
      logger.warn({ err }, 'advertising failed');
    }
  };
  await advertise();
  served.start(5000, (err) => logger.warn({ err }, 'reading the served engines failed'));
  const adTimer = setInterval(() => void advertise(), (AD_TTL_SEC * 1000) / 3);
  adTimer.unref();
  const sweeps = startSweeps(context);
  const webhooks = config.webhookDispatcher ? new WebhookDispatcher(db, config, logger) : null;
  webhooks?.start();
  events.on('event', (event) => {
    if (event.kind === 'job' && event.event !== 'updated') {
      webhooks?.wake();
    }
  });
  logger.info(
    {
      hostName,
      queues: [...queues.keys()],
      engines: [...engines.values()].map((e) => `${e.name} ${e.version}`),
      pools: poolStates(engines),
    },
    'worker ready',
  );

  return {
    context,
    queues: [...queues.keys()],
    async close() {
      clearInterval(adTimer);
      served.stop();
      sweeps.stop();
      await Promise.all([...workers.map((w) => w.close()), webhooks?.stop()]);
      await redis.del(`${config.queuePrefix}:workers:${hostName}`).catch(() => undefined);
      await fs.rm(tasksDir, { recursive: true, force: true });
      for (const e of engines.values()) {
        await e.engine.close?.();
      }
      await dispatcher.close();
      await db.$disconnect();
      storage.close?.();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}

/**
 * Each worker keeps its task work dirs (and its engines' scratch dirs) under
 * WORK_DIR/tasks/<QUEUE_PREFIX>/<host>. Dirs of workers of the same deployment that are no longer
 * alive (killed before they could clean up) and untouched for a while are removed here; other
 * deployments sharing WORK_DIR have their own prefix dir and are never touched.
 */
async function prepareTasksDir(
  config: Config,
  redis: Redis,
  hostName: string,
  logger: Logger,
): Promise<string> {
  const root = path.join(config.workDir, 'tasks', safeName(config.queuePrefix));
  const own = path.join(root, safeName(hostName));
  await fs.mkdir(own, { recursive: true });
  for (const entry of await fs.readdir(root)) {
    const dir = path.join(root, entry);
    if (dir === own || (await redis.exists(`${config.queuePrefix}:workers:${entry}`)) === 1) {
      continue;
    }

    const stat = await fs.stat(dir).catch(() => null);
    if (stat && Date.now() - stat.mtimeMs > AD_TTL_SEC * 1000) {
      await fs.rm(dir, { recursive: true, force: true });
      logger.info({ worker: entry }, 'removed the work dirs of a dead worker');
    }
  }

  return own;
}

function safeName(name: string): string {
  return name.replace(/[^\w.-]/g, '_');
}

/** Starts the warm processes of the engines that keep them; one that fails is logged, not fatal. */
async function warmEngines(engines: Map<string, DetectedEngine>, logger: Logger): Promise<void> {
  await Promise.all(
    [...engines.values()].map(async ({ name, engine }) => {
      try {
        await engine.warm?.(logger);
      } catch (err) {
        // Its tasks start the processes on demand and fail with the engine's own error.
        logger.error({ err, engine: name }, 'engine did not warm up');
      }
    }),
  );
}

/** The state of every warm pool, by engine. */
export function poolStates(engines: Map<string, DetectedEngine>): Record<string, unknown> {
  return Object.fromEntries(
    [...engines.values()].flatMap(({ name, engine }) =>
      engine.state ? [[name, engine.state()]] : [],
    ),
  );
}

async function detectEngines(
  candidates: Engine[],
  logger: Logger,
): Promise<Map<string, DetectedEngine>> {
  const found = new Map<string, DetectedEngine>();
  for (const engine of candidates) {
    const info = await engine.detect().catch(() => null);
    if (info) {
      found.set(engine.name, { name: engine.name, version: info.version, engine });
    } else {
      logger.warn({ engine: engine.name }, 'engine not found on this machine');
    }
  }

  return found;
}

async function cipherFor(db: Db, config: Config, logger: Logger): Promise<PayloadCipher> {
  const { keys, generated } = await payloadKeys(
    db,
    config.encryptionKey,
    config.previousEncryptionKeys,
  );
  if (generated) {
    logger.warn('CONVERTD_ENCRYPTION_KEY unset: payload secrets use a key kept in the database');
  }

  return new PayloadCipher(keys);
}
