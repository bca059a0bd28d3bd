// What a `command` argument may name is the catalogue's rule, which the gateway also checks at
// creation; the engines map /input and /output onto the task's directories with it.
export { mapArgument } from '@convertd/api';
export type { ArgumentRules, SandboxDirs } from '@convertd/api';
