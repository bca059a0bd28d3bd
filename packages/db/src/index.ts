export { createDb } from './client';
export type { Db, Tx, DbOrTx } from './client';
export { ensureDatabase, migrate, DatabaseUnreachableError } from './bootstrap';
export { Prisma } from './generated/prisma/client';
export type {
  User,
  ApiKey,
  Job,
  Task,
  TaskFile,
  TaskEdge,
  SigningKey,
} from './generated/prisma/client';
export { JobStatus, TaskStatus } from './generated/prisma/enums';
export * from './graph';
export * from './keys';
export { getOrCreateSetting, payloadKeys } from './settings';
export * from './signing-keys';
