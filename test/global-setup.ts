// Once per test run: a migrated template database that every test file clones (fast and isolated).
import pg from 'pg';

import { migrate } from '../packages/db/src/bootstrap';
import { TEMPLATE_DB, adminUrl, databaseUrl } from './db-urls';

export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  } finally {
    await client.end();
  }
  await migrate(databaseUrl(TEMPLATE_DB));
}
