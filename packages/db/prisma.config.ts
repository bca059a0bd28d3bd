import path from 'node:path';
import { defineConfig } from 'prisma/config';

// The CLI downloads a native schema engine before `generate` unless this points at a file.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.resolve(
  import.meta.dirname,
  'scripts/no-schema-engine.sh',
);

export default defineConfig({
  schema: '../../prisma/schema.prisma',
  migrations: { path: '../../prisma/migrations' },
});
