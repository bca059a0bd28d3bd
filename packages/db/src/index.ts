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
  Webhook,
  WebhookDelivery,
  WebhookAttempt,
  SigningKey,
} from './generated/prisma/client';
export { JobStatus, TaskStatus, DeliveryStatus } from './generated/prisma/enums';
export * from './graph';
export * from './keys';
export { getOrCreateSetting, payloadKeys } from './settings';
export * from './account/index';
export * from './webhooks/outbox';
export * from './webhooks/deliveries';
export * from './signing-keys';
