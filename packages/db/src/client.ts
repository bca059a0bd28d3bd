import { PrismaPg } from '@prisma/adapter-pg';

import { PrismaClient } from './generated/prisma/client';

export type Db = PrismaClient;
/** The client handed to the callback of `db.$transaction`. */
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

/** The only place that builds a Prisma client. */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}

/**
 * Prisma's defaults (2 s to get a connection, 5 s to run) turn a burst of requests into 500s once
 * the pool is busy; waiting for a connection is the back-pressure we want instead.
 */
const TRANSACTION_LIMITS = { maxWait: 30_000, timeout: 60_000 };

/** PostgreSQL gave up on a transaction that can simply run again (deadlock, serialization). */
function isRetryable(err: unknown): boolean {
  const e = err as { code?: unknown; meta?: { code?: unknown } } | null;
  const pg = typeof e?.meta?.code === 'string' ? e.meta.code : undefined;

  return e?.code === 'P2034' || pg === '40P01' || pg === '40001';
}

/**
 * An interactive transaction, run again (up to three times) when PostgreSQL aborts it for a
 * deadlock: the graph functions lock rows of several tasks, and rarely two of them cross.
 */
export async function transaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.$transaction(fn, TRANSACTION_LIMITS);
    } catch (err) {
      if (attempt >= 3 || !isRetryable(err)) {
        throw err;
      }
    }
  }
}
