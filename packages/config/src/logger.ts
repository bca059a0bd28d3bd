import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };
export type LogDestination = DestinationStream;

/** Top-level names whose values must never reach a log line (STYLE.md §12). */
const TOP_LEVEL = ['authorization', 'apiKey', 'key', 'token', 'file', 'url'];

/**
 * Names redacted at the top of a log object and one level down: payloads whole, and the secret
 * fields of payloads (the api package's `secretFieldsOf`) wherever they are logged one by one.
 */
const SECRET_NAMES = [
  'secret',
  'password',
  'payload',
  'headers',
  'access_key_id',
  'secret_access_key',
  'session_token',
  'storage_access_key',
  'sas_token',
  'private_key',
  'set_password',
  'set_owner_password',
  'signing_secret',
];

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'signingSecret',
  ...TOP_LEVEL,
  ...SECRET_NAMES,
  ...SECRET_NAMES.map((name) => `*.${name}`),
];

/**
 * Request URLs outside `/v2` are signed (`/s/` carries a whole job, credentials included; upload
 * and download URLs carry their signatures): they are logged without their query.
 */
function censor(value: unknown, path: string[]): unknown {
  if (path.map(String).join('.') !== 'req.url') {
    return '[redacted]';
  }
  const url = String(value);
  const query = url.indexOf('?');

  return query === -1 || url.startsWith('/v2/') ? url : `${url.slice(0, query)}?[redacted]`;
}

/** The one pino factory: JSON lines with the service name, secrets redacted. */
export function createLogger(
  service: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination?: DestinationStream,
): Logger {
  const options = {
    level,
    base: { service },
    redact: { paths: [...REDACT, 'req.url'], censor },
  };

  return destination ? pino(options, destination) : pino(options);
}
