// A convertd of the bench's own: a database made from the migrations, its own Redis prefix,
// data and work dirs, free ports on 127.0.0.1, and the gateway and the worker as two child
// processes (so the gateway's RSS is its own). `close` removes all of it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

import { createApiKey, createDb, ensureDatabase, migrate, SCOPES } from '@convertd/db';
import { Redis } from 'ioredis';
import pg from 'pg';

import { startDaemon, sweepStragglers, type Daemon } from './proc';

export const REPO = path.resolve(import.meta.dirname, '../..');

const READY_TIMEOUT_MS = 180_000;
const WORKER_GRACE_MS = 30_000;

export interface Stack {
  url: string;
  syncUrl: string;
  key: string;
  gatewayPid: number;
  workerPid: number;
  /** Name of the stack's database (its PostgreSQL backends carry it in their titles). */
  database: string;
  root: string;
  /** What the gateway and the worker were started with (no secrets). */
  settings: Record<string, string>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Where the run keeps its temporary dirs; the stack makes one below it. */
  tmpRoot: string;
  env?: Record<string, string>;
  /** Extra node flags for the gateway and the worker (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const id = randomBytes(4).toString('hex');
  const root = await fs.mkdtemp(path.join(options.tmpRoot, `stack-${id}-`));
  const database = `convertd_bench_${id}`;
  const databaseUrl = dbUrl(database);
  const settings: Record<string, string> = {
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: `bench-${id}`,
    DATA_DIR: path.join(root, 'data'),
    WORK_DIR: path.join(root, 'work'),
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    SYNC_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    // The benchmark measures throughput far past any per-key limit.
    RATE_LIMIT_PER_MINUTE: '0',
    ...options.env,
  };
  const daemons: Daemon[] = [];
  let dbMade = false;
  const close = async () => {
    // The worker finishes what it runs; the gateway answers its waiters; then nothing is left.
    await Promise.allSettled(daemons.map((d) => d.stop(WORKER_GRACE_MS)));
    await sweepStragglers(null, root);
    await dropRedisKeys(settings.REDIS_URL!, settings.QUEUE_PREFIX!);
    if (dbMade) {
      await dropDatabase(databaseUrl);
    }
    await fs.rm(root, { recursive: true, force: true });
  };

  try {
    await ensureDatabase(databaseUrl);
    dbMade = true;
    await migrate(databaseUrl);
    const key = await createUserAndKey(databaseUrl, id);
    const env = { ...settings, DATABASE_URL: databaseUrl };
    for (const app of ['gateway', 'worker']) {
      daemons.push(
        startDaemon(
          process.execPath,
          [...(options.nodeArgs ?? []), '--import', 'tsx', `apps/${app}/src/main.ts`],
          {
            cwd: REPO,
            env,
            logFile: path.join(root, `${app}.log`),
          },
        ),
      );
    }
    const url = `http://127.0.0.1:${settings.PORT}`;
    await waitReady(url, daemons, root);

    return {
      url,
      syncUrl: `http://127.0.0.1:${settings.SYNC_PORT}`,
      key,
      gatewayPid: daemons[0]!.pid,
      workerPid: daemons[1]!.pid,
      database,
      root,
      settings,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** PostgreSQL server of the bench: BENCH_DATABASE_URL's, else the local one with trust auth. */
function dbUrl(name: string): string {
  const url = new URL(process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/');
  url.pathname = `/${name}`;
  return url.toString();
}

async function createUserAndKey(databaseUrl: string, id: string): Promise<string> {
  const db = createDb(databaseUrl, { max: 1 });
  try {
    const user = await db.user.create({
      data: { email: `bench-${id}@localhost`, username: `bench-${id}`, credits: 1_000_000 },
    });
    const { key } = await createApiKey(db, { userId: user.id, scopes: SCOPES, name: 'bench' });
    return key;
  } finally {
    await db.$disconnect();
  }
}

/** /readyz answers 200 once PostgreSQL, Redis and a worker (with its pools warm) are there. */
async function waitReady(url: string, daemons: readonly Daemon[], root: string): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < until) {
    const dead = daemons.find((d) => d.child.exitCode !== null || d.child.signalCode !== null);
    if (dead) {
      throw new Error(`a convertd process exited at start; see its log: ${await logTails(root)}`);
    }

    const status = await fetch(`${url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) {
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  throw new Error(`convertd was not ready within ${READY_TIMEOUT_MS} ms: ${await logTails(root)}`);
}

async function logTails(root: string): Promise<string> {
  const parts = await Promise.all(
    ['gateway', 'worker'].map(async (app) => {
      const text = await fs.readFile(path.join(root, `${app}.log`), 'utf8').catch(() => '');
      return `${app}: ${text.slice(-1500)}`;
    }),
  );

  return parts.join('\n');
}

async function dropRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length > 0) {
        await redis.del(...keys);
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) {
      return;
    }
    if (Date.now() > until) {
      throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A port the kernel has free, never 8080 or 8081 (a developer's server may be about to take them). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await anyPort();
    if (port !== 8080 && port !== 8081) {
      return port;
    }
  }
}

async function anyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
