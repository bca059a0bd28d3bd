import { defineConfig } from 'tsup';

// Bundles the app with the workspace packages it imports; npm dependencies stay external.
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  outDir: 'dist',
  clean: true,
  noExternal: [/^@convertd\//],
  // Everything from npm stays external (and resolvable: pnpm links it next to each package).
  skipNodeModulesBundle: true,
});
