// Account webhooks and job webhook_url deliveries (API.md §6): validation, signing, the outbox
// dispatcher. The outbox rows themselves are written by packages/db in the job's transaction.
export { WebhookDispatcher } from './dispatcher';
export type { DispatcherConfig, DispatcherOptions } from './dispatcher';
export { webhookBody } from './body';
export { defaultSecret, secretFor } from './secrets';
export { newSigningSecret, signPayload } from './signature';
export { parseWebhookInput, webhookUrlError } from './validate';
export type { WebhookInput } from './validate';
