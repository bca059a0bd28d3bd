#!/usr/bin/env node
// `pnpm start`: applies migrations, then runs the gateway and one worker in the foreground.
// Either child exiting stops the other; Ctrl-C stops both.
import { spawn, spawnSync } from 'node:child_process';

// Node itself with tsx's loader (not the tsx CLI): SIGTERM then reaches the apps directly, and a
// worker finishes its running tasks before it exits.
const tsx = ['--import', 'tsx'];
const migrate = spawnSync(process.execPath, [...tsx, 'apps/cli/src/main.ts', 'db', 'migrate'], {
  stdio: 'inherit',
});
if (migrate.status !== 0) {
  process.exit(migrate.status ?? 1);
}

const children = ['apps/gateway/src/main.ts', 'apps/worker/src/main.ts'].map((entry) =>
  spawn(process.execPath, [...tsx, entry], { stdio: 'inherit' }),
);
let stopping = false;
const stop = (code) => {
  if (stopping) {
    return;
  }
  stopping = true;
  for (const child of children) {
    child.kill('SIGTERM');
  }
  // The worker may still be finishing a conversion; it goes on alone after this.
  setTimeout(() => process.exit(code), 60_000).unref();
  Promise.all(
    children.map(
      (c) => new Promise((resolve) => (c.exitCode !== null ? resolve() : c.once('exit', resolve))),
    ),
  ).then(() => process.exit(code));
};
for (const child of children) {
  child.once('exit', (code) => stop(code ?? 1));
}
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));
