import type { Options } from 'tsup';

/** Each app is bundled with the workspace packages it imports; npm dependencies stay external. */
export const appBundle: Options = {
  entry: ['src/main.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  outDir: 'dist',
  clean: true,
  noExternal: [/^@convertd\//],
  // Resolvable at run time because each app lists them as its own dependencies.
  skipNodeModulesBundle: true,
};
