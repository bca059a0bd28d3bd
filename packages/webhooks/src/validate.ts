// The body of `POST /v2/webhooks`: `{url, events}`, refused with 422 INVALID_DATA naming the field.
import { isIP } from 'node:net';

import { WEBHOOK_EVENTS, type WebhookEvent } from '@convertd/db';
import { AppError } from '@convertd/errors';
import { checkAddress } from '@convertd/outbound';

const MAX_URL_LENGTH = 2048;

export interface WebhookInput {
  url: string;
  events: WebhookEvent[];
}

/**
 * Checks what can be checked without a lookup: an absolute http(s) URL, and, unless private
 * addresses are allowed, no loopback or private IP literal nor `localhost`. Host names that
 * resolve to such addresses are refused at each delivery (packages/outbound).
 */
export function parseWebhookInput(body: unknown, allowPrivate: boolean): WebhookInput {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const errors: Record<string, string[]> = {};
  const url = checkUrl(b.url, allowPrivate);
  if (typeof url !== 'string') {
    errors.url = [url.error];
  }

  const events = checkEvents(b.events);
  if (!Array.isArray(events)) {
    errors.events = [events.error];
  }
  if (typeof url !== 'string' || !Array.isArray(events)) {
    throw new AppError('INVALID_DATA', { errors });
  }

  return { url, events };
}

function checkUrl(raw: unknown, allowPrivate: boolean): string | { error: string } {
  if (typeof raw !== 'string' || raw.trim() === '') {
    return { error: 'The url field is required.' };
  }

  const error = webhookUrlError(raw, allowPrivate);
  return error === null ? raw : { error };
}

/**
 * Why `raw` cannot be a webhook URL (account webhooks and a job's `webhook_url`), or null: not
 * an absolute http(s) URL, or, unless private addresses are allowed, `localhost` or a loopback
 * or private IP literal.
 */
export function webhookUrlError(raw: string, allowPrivate: boolean): string | null {
  if (raw.length > MAX_URL_LENGTH || raw.includes('\u0000')) {
    return 'The url format is invalid.';
  }

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'The url format is invalid.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return 'The url must be an http or https URL.';
  }
  if (!allowPrivate && !isPublicHost(url.hostname)) {
    return 'The url points to a loopback, private or link-local address, which this server does not call.';
  }

  return null;
}

function isPublicHost(hostname: string): boolean {
  // `localhost.` is localhost: a fully qualified name may end in a dot.
  const bare = hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.+$/, '')
    .toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) {
    return false;
  }

  return isIP(bare) === 0 || checkAddress(bare).allowed;
}

function checkEvents(raw: unknown): WebhookEvent[] | { error: string } {
  if (!Array.isArray(raw) || raw.length === 0) {
    return { error: 'The events field must be a non-empty array.' };
  }

  const known: readonly string[] = WEBHOOK_EVENTS;
  const unknown = raw.filter((e) => typeof e !== 'string' || !known.includes(e));
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 3).map((e) => String(JSON.stringify(e)).slice(0, 40));
    return {
      error: `The events may only contain ${WEBHOOK_EVENTS.join(', ')}; got ${shown.join(', ')}.`,
    };
  }

  return [...new Set(raw as WebhookEvent[])];
}
