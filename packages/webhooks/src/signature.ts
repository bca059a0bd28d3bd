import { createHmac, randomBytes } from 'node:crypto';

/** `CloudConvert-Signature`: lower-case hex HMAC-SHA256 of the exact body bytes (API.md §6). */
export function signPayload(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** A new signing secret: 32 url-safe characters. */
export function newSigningSecret(): string {
  return randomBytes(24).toString('base64url');
}
