// Once per test run: a migrated template database that every test file clones (fast and
// isolated). Its name is unique to the run, so runs sharing a PostgreSQL never break each other.
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { migrate } from '../packages/db/src/bootstrap';
import { adminUrl, databaseUrl } from './db-urls';

export default async function setup(): Promise<() => Promise<void>> {
  const template = `convertd_tpl_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${template}`);
  await migrate(databaseUrl(template));
  process.env.CONVERTD_TEST_TEMPLATE = template;

  return async () => {
    await admin(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
