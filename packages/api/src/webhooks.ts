// The wire shape of an account webhook (API.md §2.8): the signing secret is shown to its owner.
import { timestamp } from './serialize';

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  signingSecret: string;
  disabled: boolean;
  failing: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export function serializeWebhook(hook: WebhookView, origin: string): Record<string, unknown> {
  return {
    id: hook.id,
    url: hook.url,
    events: hook.events,
    signing_secret: hook.signingSecret,
    disabled: hook.disabled,
    failing: hook.failing,
    created_at: timestamp(hook.createdAt),
    updated_at: timestamp(hook.updatedAt),
    links: { self: `${origin}/v2/webhooks/${hook.id}` },
  };
}
