import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths whose values must never reach a log line (STYLE.md §12). */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'apiKey',
  'key',
  'password',
  'token',
  'payload',
  'file',
  'url',
  'secret',
  'signingSecret',
  'signing_secret',
];

/** The one pino factory: JSON lines with the service name, secrets redacted. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service },
    redact: { paths: REDACT, censor: '[redacted]' },
  });
}
