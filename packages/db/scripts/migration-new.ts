// Writes a new SQL migration from the difference between prisma/schema.prisma and the schema as of
// the last migration (prisma/migrations/schema.snapshot.prisma), using Prisma's WebAssembly schema
// engine: the native one that `prisma migrate dev` needs cannot be downloaded here.
// Usage: pnpm db:migration:new <name>
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

const root = path.resolve(import.meta.dirname, '../../..');
const schemaFile = path.join(root, 'prisma/schema.prisma');
const migrationsDir = path.join(root, 'prisma/migrations');
const snapshotFile = path.join(migrationsDir, 'schema.snapshot.prisma');

const require = createRequire(import.meta.url);
// @types/node 20 does not declare the WebAssembly global.
const WA = (globalThis as any).WebAssembly;

async function loadEngine(schema: string) {
  // The package entry imports the .wasm as an ES module, which Node 20 cannot load; bind it by hand.
  const bg = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as any;
  const dir = path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
  const wasm = fs.readFileSync(path.join(dir, 'schema_engine_bg.wasm'));
  const instance = new WA.Instance(new WA.Module(wasm), {
    './schema_engine_bg.js': bg,
  });
  bg.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  const adapter = new PrismaPg({
    connectionString: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  });
  return bg.SchemaEngine.new(
    { datamodels: [['schema.prisma', schema]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(adapter),
  );
}

const name = (process.argv[2] ?? 'migration').replace(/[^a-z0-9_]+/gi, '_');
const schema = fs.readFileSync(schemaFile, 'utf8');
const engine = await loadEngine(schema);
const from = fs.existsSync(snapshotFile)
  ? {
      tag: 'schemaDatamodel',
      files: [{ path: 'schema.prisma', content: fs.readFileSync(snapshotFile, 'utf8') }],
    }
  : { tag: 'empty' };
const diff = await engine.diff({
  from,
  to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: schema }] },
  script: true,
  shadowDatabaseUrl: null,
  exitCode: null,
  filters: { externalTables: [], externalEnums: [] },
});
const sql: string = diff.stdout;
if (!sql.trim() || sql.startsWith('-- This is an empty migration')) {
  console.log('no changes');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = path.join(migrationsDir, `${stamp}_${name}`);
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'migration.sql'), sql);
fs.writeFileSync(snapshotFile, schema);
console.log(`wrote ${path.relative(root, dir)}/migration.sql`);
process.exit(0);
