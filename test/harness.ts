// Starts a real convertd (gateway on two ports, optionally a worker) on its own database, Redis
// prefix and directories, for one test file.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import pg from 'pg';
import { Redis } from 'ioredis';

import { buildApp } from '../apps/gateway/src/app';
import { createDeps, type Deps } from '../apps/gateway/src/deps';
import { startWorker, type WorkerOptions, type WorkerRuntime } from '../apps/worker/src/runtime';
import {
  createLogger,
  loadConfig,
  type Config,
  type LogDestination,
} from '../packages/config/src/index';
import { createApiKey, SCOPES } from '../packages/db/src/keys';
import { adminUrl, databaseUrl, templateDb } from './db-urls';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3Server, type S3Server } from './s3-server';

export const CORPUS = path.resolve(import.meta.dirname, '../../shared/corpus');
export const FIXTURES = path.resolve(import.meta.dirname, '../../shared/sdk-fixtures');

export interface Stack {
  config: Config;
  deps: Deps;
  worker: WorkerRuntime | null;
  /** Main API origin, e.g. http://127.0.0.1:41234 (https with TLS_CERT_FILE and TLS_KEY_FILE) */
  url: string;
  syncUrl: string;
  /** The sandbox API's ports (with `sandbox: true`), else null. */
  sandboxUrl: string | null;
  sandboxSyncUrl: string | null;
  env: Record<string, string>;
  /** The S3 server holding the stack's files, when it runs on STORAGE_DRIVER=s3. */
  s3: S3Server | null;
  createUser(options?: {
    scopes?: readonly string[];
    email?: string;
    credits?: number;
    /** Its key is a sandbox key. */
    sandbox?: boolean;
  }): Promise<{ id: number; key: string }>;
  startWorker(options?: WorkerOptions): Promise<WorkerRuntime>;
  close(): Promise<void>;
}

export interface StackOptions {
  worker?: boolean;
  /**
   * Where the stack keeps its files; default: `s3` when CONVERTD_TEST_STORAGE=s3 is set (to run
   * any test file on the S3 driver), else `local`. `s3` starts an s3rver for the stack.
   */
  storage?: 'local' | 's3';
  env?: Record<string, string>;
  workerOptions?: WorkerOptions;
  /** Also open the sandbox API on its own ports (SANDBOX_PORT, SANDBOX_SYNC_PORT). */
  sandbox?: boolean;
  /** Where the gateway's and worker's log lines go (instead of stdout), e.g. to read them. */
  logStream?: LogDestination;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const id = randomBytes(4).toString('hex');
  const dbName = `convertd_t_${id}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName} TEMPLATE ${templateDb()}`);
  await admin.end();

  const root = await fs.mkdtemp(path.join(os.tmpdir(), `convertd-test-${id}-`));
  const [port, syncPort] = [await freePort(), await freePort()];
  const sandboxPorts = options.sandbox ? [await freePort(), await freePort()] : null;
  const onS3 = (options.storage ?? process.env.CONVERTD_TEST_STORAGE) === 's3';
  const s3 = onS3 ? await startS3Server() : null;
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl(dbName),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `cvt-${id}`,
    DATA_DIR: path.join(root, 'data'),
    WORK_DIR: path.join(root, 'work'),
    PORT: String(port),
    SYNC_PORT: String(syncPort),
    CONVERTD_ALLOW_PRIVATE_URLS: 'true',
    SWEEP_INTERVAL_MS: '2000',
    WORKER_LOCK_MS: '5000',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    // Tests create many jobs fast; the rate-limit tests set their own limit.
    RATE_LIMIT_PER_MINUTE: '0',
    ...(sandboxPorts
      ? { SANDBOX_PORT: String(sandboxPorts[0]), SANDBOX_SYNC_PORT: String(sandboxPorts[1]) }
      : {}),
    ...(s3
      ? {
          STORAGE_DRIVER: 's3',
          S3_ENDPOINT: s3.endpoint,
          S3_BUCKET: `convertd-${id}`,
          S3_ACCESS_KEY_ID,
          S3_SECRET_ACCESS_KEY,
        }
      : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const logger = createLogger('test', env.LOG_LEVEL, options.logStream);
  const deps = await createDeps(config, logger);
  const main = buildApp(deps, { mode: 'main' });
  const sync = buildApp(deps, { mode: 'sync' });
  await main.listen({ port, host: '127.0.0.1' });
  await sync.listen({ port: syncPort, host: '127.0.0.1' });
  const apps = [main, sync];
  if (sandboxPorts) {
    for (const [mode, sandboxPort] of [
      ['main', sandboxPorts[0]!],
      ['sync', sandboxPorts[1]!],
    ] as const) {
      const app = buildApp(deps, { mode, sandbox: true });
      await app.listen({ port: sandboxPort, host: '127.0.0.1' });
      apps.push(app);
    }
  }

  const workers: WorkerRuntime[] = [];
  const start = async (workerOptions?: WorkerOptions) => {
    const runtime = await startWorker(config, logger, workerOptions ?? options.workerOptions ?? {});
    workers.push(runtime);
    return runtime;
  };
  const worker = options.worker === false ? null : await start();
  let users = 0;
  const scheme = config.tls ? 'https' : 'http';

  return {
    config,
    deps,
    worker,
    url: `${scheme}://127.0.0.1:${port}`,
    syncUrl: `${scheme}://127.0.0.1:${syncPort}`,
    sandboxUrl: sandboxPorts ? `${scheme}://127.0.0.1:${sandboxPorts[0]}` : null,
    sandboxSyncUrl: sandboxPorts ? `${scheme}://127.0.0.1:${sandboxPorts[1]}` : null,
    env,
    s3,
    startWorker: start,
    async createUser(o = {}) {
      users += 1;
      const user = await deps.db.user.create({
        data: {
          email: o.email ?? `user${users}-${id}@example.test`,
          username: `user${users}-${id}`,
          credits: o.credits ?? config.defaultCredits,
        },
      });
      const { key } = await createApiKey(deps.db, {
        userId: user.id,
        scopes: o.scopes ?? SCOPES,
        sandbox: o.sandbox ?? false,
      });
      return { id: user.id, key };
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.close()));
      await Promise.allSettled(apps.map((app) => app.close()));
      await deps.close();
      const redis = new Redis(env.REDIS_URL!);
      const keys = await redis.keys(`${env.QUEUE_PREFIX}:*`);
      if (keys.length > 0) {
        await redis.del(...keys);
      }
      redis.disconnect();
      const drop = new pg.Client({ connectionString: adminUrl() });
      await drop.connect();
      await drop.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await drop.end();
      await fs.rm(root, { recursive: true, force: true });
      await s3?.close();
    },
  };
}

/**
 * A port that is free now, below Linux's ephemeral range (32768 and up): a port the kernel hands
 * out may be taken by any outgoing connection (PostgreSQL, Redis) between this check and the
 * listen, which a port from below that range is not.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (await canListen(port)) {
      return port;
    }
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Polls `check` until it returns a value (for conditions no event announces). */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > until) {
      throw new Error('condition not met in time');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A fetch against the API with a key. */
export async function api(
  stack: Stack,
  key: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${stack.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
    text,
    json: text ? JSON.parse(text) : undefined,
  };
}
