// Creates the database when it is missing and applies the SQL migrations of prisma/migrations.
// The Prisma CLI cannot migrate here (its native engine cannot be downloaded), so this is ours.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import pg from 'pg';

/** Postgres cannot be reached: entry points print `message` as one line. */
export class DatabaseUnreachableError extends Error {
  override readonly name = 'DatabaseUnreachableError';
}

/** `prisma/migrations` of the repo, found upwards from this file (source) or the bundle (dist). */
function migrationsDir(): string {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (fs.existsSync(candidate)) {
      return candidate;
    }
    if (path.dirname(dir) === dir) {
      throw new Error('prisma/migrations not found above ' + import.meta.dirname);
    }
  }
}
// Any constant works; it only keeps two processes from migrating at once.
const MIGRATION_LOCK = 7_301_202;

export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) {
    return false;
  }

  const client = await connect(databaseUrl, 'postgres');
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) {
      return false;
    }

    try {
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    } catch (err) {
      // Another process created it between our check and our CREATE.
      if ((err as { code?: string }).code !== '42P04') {
        throw err;
      }
    }

    return true;
  } finally {
    await client.end();
  }
}

export interface MigrationResult {
  applied: string[];
}

/** Applies every migration not yet recorded, each in its own transaction, under a lock. */
export async function migrate(
  databaseUrl: string,
  dir = migrationsDir(),
): Promise<MigrationResult> {
  const client = await connect(databaseUrl);
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS convertd_migrations (
      name text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Map(
      (
        await client.query<{ name: string; checksum: string }>(
          'SELECT name, checksum FROM convertd_migrations',
        )
      ).rows.map((r) => [r.name, r.checksum]),
    );

    for (const name of listMigrations(dir)) {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const previous = done.get(name);
      if (previous !== undefined) {
        if (previous !== checksum) {
          throw new Error(
            `migration ${name} was changed after it was applied; add a new one instead`,
          );
        }
        continue;
      }

      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO convertd_migrations (name, checksum) VALUES ($1, $2)', [
          name,
          checksum,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${name} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(name);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await client.end();
  }

  return { applied };
}

function listMigrations(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort();
}

async function connect(databaseUrl: string, database?: string): Promise<pg.Client> {
  const url = new URL(databaseUrl);
  if (database) {
    url.pathname = `/${database}`;
  }

  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    const safe = new URL(databaseUrl);
    safe.password = '';
    throw new DatabaseUnreachableError(
      `cannot reach PostgreSQL at DATABASE_URL=${safe.toString()} (${(err as Error).message}); ` +
        'start it (e.g. `pg_ctlcluster 15 main start` or `docker-compose up -d postgres`) or set DATABASE_URL',
      { cause: err },
    );
  }

  return client;
}
