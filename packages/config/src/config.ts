import os from 'node:os';
import path from 'node:path';

/** A bad setting: printed as one line by the entry points, never as a stack trace. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface Config {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly port: number;
  readonly syncPort: number;
  readonly host: string;
  /** Sandbox API and its sync API on their own ports (0: not opened; host prefixes still work). */
  readonly sandboxPort: number;
  readonly sandboxSyncPort: number;
  /** Origin put into every URL the server returns; when unset, taken from the request. */
  readonly publicUrl: string | undefined;
  /** The same for the sandbox API (its port or host names). */
  readonly sandboxPublicUrl: string | undefined;
  /** PEM certificate chain and key (TLS_CERT_FILE, TLS_KEY_FILE): both ports then speak HTTPS. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly dataDir: string;
  /** Where files live: `local` (under dataDir) or `s3` (the bucket of `s3`). */
  readonly storageDriver: 'local' | 's3';
  readonly s3: S3Settings;
  /** Hours after a job (or standalone task) ends that it and its files are deleted; 0: never. */
  readonly retentionHours: number;
  readonly workDir: string;
  /** Prefix of every Redis key (BullMQ queues and pub/sub channels). */
  readonly queuePrefix: string;
  readonly allowPrivateUrls: boolean;
  readonly bootstrapApiKey: string | undefined;
  /**
   * AES-256 key of the secret fields of task payloads (CONVERTD_ENCRYPTION_KEY). When unset, a
   * key generated once and kept in the database's `settings` table is used (with a warning).
   */
  readonly encryptionKey: Buffer | undefined;
  /** Earlier keys (CONVERTD_ENCRYPTION_KEY_PREVIOUS, comma-separated): they still decrypt. */
  readonly previousEncryptionKeys: readonly Buffer[];
  readonly workerConcurrency: number;
  readonly maxUploadBytes: number;
  /** Seconds a task may run when it sets no `timeout`, and the most it may ask for. */
  readonly defaultTaskTimeoutSec: number;
  readonly maxTaskTimeoutSec: number;
  /** Lifetime of signed upload and download URLs. */
  readonly signedUrlTtlSec: number;
  /** How long a signed URL with a `cache_key` reuses the result of its last job. */
  readonly signedUrlCacheTtlSec: number;
  readonly sweepIntervalMs: number;
  /** BullMQ lock: a worker that stops renewing it for this long is taken for dead. */
  readonly lockDurationMs: number;
  readonly maxTaskAttempts: number;
  /** An upload that sends nothing for this long is dropped (its task waits for a new one). */
  readonly uploadIdleMs: number;
  /**
   * Operator's marks on engine versions (ENGINE_DEFAULT_VERSIONS, ENGINE_DEPRECATED_VERSIONS:
   * `engine=version,...`). A version matches the full version or its leading parts (`7.4`).
   */
  readonly engineDefaultVersions: Readonly<Record<string, string>>;
  readonly engineDeprecatedVersions: Readonly<Record<string, readonly string[]>>;
  /**
   * Conversions at once per engine (ENGINE_CONCURRENCY, `libreoffice=2,chrome=4`); engines not
   * named run `workerConcurrency` at once. For LibreOffice it is also the number of warm processes.
   */
  readonly engineConcurrency: Readonly<Record<string, number>>;
  /** Conversions a warm LibreOffice serves before it is replaced (0: never). */
  readonly libreofficeRestartAfter: number;
  /** soffice's resident memory past which it is replaced, in bytes (0: no limit). */
  readonly libreofficeMaxRssBytes: number;
  /** Tasks a Chromium serves before it is replaced once idle. */
  readonly chromeRestartAfter: number;
  /** Webhook deliveries: retries after a network error or a 5xx, the first retry's delay
   * (doubled at each retry), the deadline of one attempt, and how often the outbox is polled. */
  readonly webhookRetries: number;
  readonly webhookRetryDelayMs: number;
  readonly webhookTimeoutMs: number;
  readonly webhookPollMs: number;
  /** Whether this worker process runs a webhook dispatcher. */
  readonly webhookDispatcher: boolean;
  /** Balance of a user created without one. */
  readonly defaultCredits: number;
  /** Cost of tasks, per started minute of their run (see `creditsFor` in packages/api). */
  readonly credits: CreditModel;
  /** Requests per minute and API key on the rate-limited routes (0: no limit). */
  readonly rateLimitPerMinute: number;
}

/**
 * What a task costs per started minute: `perOperation` names operations (an import too), the
 * others cost `perMinute` when they are processing operations and nothing otherwise.
 */
export interface CreditModel {
  readonly perMinute: number;
  readonly perOperation: Readonly<Record<string, number>>;
}

/** The bucket of STORAGE_DRIVER=s3 (any S3-compatible service). */
export interface S3Settings {
  readonly endpoint: string | undefined;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
  readonly forcePathStyle: boolean;
  /** Download URLs answer with a redirect to a presigned URL of the bucket. */
  readonly presignedDownloads: boolean;
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const dataDir = path.resolve(env.DATA_DIR ?? path.join(process.cwd(), 'data'));

  return Object.freeze({
    databaseUrl: env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/convertd',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    port: int(env, 'PORT', 8080),
    syncPort: int(env, 'SYNC_PORT', 8081),
    host: env.HOST ?? '0.0.0.0',
    sandboxPort: int(env, 'SANDBOX_PORT', 0),
    sandboxSyncPort: int(env, 'SANDBOX_SYNC_PORT', 0),
    publicUrl: origin(env.PUBLIC_URL, 'PUBLIC_URL'),
    sandboxPublicUrl: origin(env.SANDBOX_PUBLIC_URL, 'SANDBOX_PUBLIC_URL'),
    tls: tlsFiles(env),
    dataDir,
    storageDriver: driver(env),
    s3: s3Settings(env),
    retentionHours: hours(env, 'RETENTION_HOURS', 24),
    workDir: path.resolve(env.WORK_DIR ?? path.join(os.tmpdir(), 'convertd-work')),
    queuePrefix: env.QUEUE_PREFIX ?? 'convertd',
    allowPrivateUrls: bool(env, 'CONVERTD_ALLOW_PRIVATE_URLS', false),
    bootstrapApiKey: env.CONVERTD_BOOTSTRAP_API_KEY || undefined,
    encryptionKey: encryptionKey('CONVERTD_ENCRYPTION_KEY', env.CONVERTD_ENCRYPTION_KEY),
    previousEncryptionKeys: (env.CONVERTD_ENCRYPTION_KEY_PREVIOUS ?? '')
      .split(',')
      .map((raw) => encryptionKey('CONVERTD_ENCRYPTION_KEY_PREVIOUS', raw))
      .filter((key) => key !== undefined),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', Math.max(1, os.availableParallelism())),
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 1024 * 1024 * 1024),
    defaultTaskTimeoutSec: int(env, 'TASK_TIMEOUT', 300),
    maxTaskTimeoutSec: int(env, 'MAX_TASK_TIMEOUT', 5 * 3600),
    signedUrlTtlSec: int(env, 'SIGNED_URL_TTL', 24 * 3600),
    signedUrlCacheTtlSec: int(env, 'SIGNED_URL_CACHE_TTL', 24 * 3600),
    sweepIntervalMs: int(env, 'SWEEP_INTERVAL_MS', 15_000),
    lockDurationMs: int(env, 'WORKER_LOCK_MS', 30_000),
    maxTaskAttempts: int(env, 'TASK_ATTEMPTS', 2),
    uploadIdleMs: int(env, 'UPLOAD_IDLE_MS', 60_000),
    engineDefaultVersions: Object.fromEntries(
      [...versionList(env, 'ENGINE_DEFAULT_VERSIONS')].map(([e, v]) => [e, v[0]!]),
    ),
    engineDeprecatedVersions: Object.fromEntries(versionList(env, 'ENGINE_DEPRECATED_VERSIONS')),
    engineConcurrency: countList(env, 'ENGINE_CONCURRENCY'),
    libreofficeRestartAfter: int(env, 'LIBREOFFICE_RESTART_AFTER', 200),
    libreofficeMaxRssBytes: int(env, 'LIBREOFFICE_MAX_MEMORY_MB', 2048) * 1024 * 1024,
    chromeRestartAfter: int(env, 'CHROME_RESTART_AFTER', 100),
    defaultCredits: int(env, 'DEFAULT_CREDITS', 1_000_000),
    credits: Object.freeze({
      perMinute: int(env, 'CREDITS_PER_MINUTE', 1),
      perOperation: Object.freeze(operationCosts(env, 'CREDITS_PER_OPERATION')),
    }),
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 500),
    webhookRetries: int(env, 'WEBHOOK_RETRIES', 3),
    webhookRetryDelayMs: int(env, 'WEBHOOK_RETRY_DELAY_MS', 30_000),
    webhookTimeoutMs: Math.max(1, int(env, 'WEBHOOK_TIMEOUT_MS', 10_000)),
    webhookPollMs: Math.max(10, int(env, 'WEBHOOK_POLL_MS', 2000)),
    webhookDispatcher: bool(env, 'WEBHOOK_DISPATCHER', true),
  });
}

function driver(env: Env): 'local' | 's3' {
  const raw = (env.STORAGE_DRIVER || 'local').toLowerCase();
  if (raw !== 'local' && raw !== 's3') {
    throw new ConfigError(`STORAGE_DRIVER must be local or s3, got "${raw}"`);
  }
  if (raw === 's3' && !env.S3_BUCKET) {
    throw new ConfigError('STORAGE_DRIVER=s3 needs S3_BUCKET');
  }
  return raw;
}

function s3Settings(env: Env): S3Settings {
  const endpoint = env.S3_ENDPOINT || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    throw new ConfigError(`S3_ENDPOINT must be an http or https URL, got "${endpoint}"`);
  }
  return {
    endpoint,
    bucket: env.S3_BUCKET ?? '',
    region: env.S3_REGION || 'us-east-1',
    accessKeyId: env.S3_ACCESS_KEY_ID || undefined,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY || undefined,
    // A custom endpoint (MinIO, Ceph, s3rver) rarely has a wildcard DNS name for buckets.
    forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', endpoint !== undefined),
    presignedDownloads: bool(env, 'S3_PRESIGNED_DOWNLOADS', false),
  };
}

/** A non-negative number of hours; fractions allowed (tests use seconds' worth). */
function hours(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${name} must be a non-negative number of hours, got "${raw}"`);
  }
  return value;
}

/** `libreoffice=7.4,chrome=156.0` → libreoffice → [7.4], chrome → [156.0]. */
function versionList(env: Env, name: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const item of (env[name] ?? '').split(',')) {
    if (item.trim() === '') {
      continue;
    }
    const match = /^\s*([a-z][a-z0-9-]*)\s*=\s*([0-9][0-9A-Za-z.+~-]*)\s*$/.exec(item);
    if (!match) {
      throw new ConfigError(`${name} must look like "libreoffice=7.4,chrome=156", got "${item}"`);
    }
    found.set(match[1]!, [...(found.get(match[1]!) ?? []), match[2]!]);
  }
  return found;
}

/** `libreoffice=2,chrome=4` → { libreoffice: 2, chrome: 4 }; each count at least 1. */
function countList(env: Env, name: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const item of (env[name] ?? '').split(',')) {
    if (item.trim() === '') {
      continue;
    }
    const match = /^\s*([a-z][a-z0-9-]*)\s*=\s*([1-9][0-9]*)\s*$/.exec(item);
    if (!match) {
      throw new ConfigError(`${name} must look like "libreoffice=2,chrome=4", got "${item}"`);
    }
    found[match[1]!] = Number(match[2]);
  }
  return found;
}

/** `capture-website=2,import/url=1` → { 'capture-website': 2, 'import/url': 1 }; 0 allowed. */
function operationCosts(env: Env, name: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const item of (env[name] ?? '').split(',')) {
    if (item.trim() === '') {
      continue;
    }
    const match = /^\s*([a-z][a-z0-9/-]*)\s*=\s*([0-9]+)\s*$/.exec(item);
    if (!match) {
      throw new ConfigError(
        `${name} must look like "capture-website=2,import/url=1", got "${item}"`,
      );
    }
    found[match[1]!] = Number(match[2]);
  }
  return found;
}

/** Conversions at once for one engine. */
export function engineConcurrencyOf(config: Config, engine: string): number {
  return config.engineConcurrency[engine] ?? config.workerConcurrency;
}

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }

  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  }

  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') {
    return fallback;
  }
  if (['1', 'true', 'yes', 'on'].includes(raw)) {
    return true;
  }
  if (['0', 'false', 'no', 'off'].includes(raw)) {
    return false;
  }

  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function tlsFiles(env: Env): Config['tls'] {
  const certFile = env.TLS_CERT_FILE || undefined;
  const keyFile = env.TLS_KEY_FILE || undefined;
  if (certFile === undefined && keyFile === undefined) {
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) {
    throw new ConfigError('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }

  return { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) };
}

/** 32 bytes as 64 hex digits or as base64 (either alphabet, padding optional). */
function encryptionKey(name: string, raw: string | undefined): Buffer | undefined {
  const text = raw?.trim() ?? '';
  if (text === '') {
    return undefined;
  }
  if (/^[0-9a-f]{64}$/i.test(text)) {
    return Buffer.from(text, 'hex');
  }
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    return Buffer.from(text, 'base64');
  }

  throw new ConfigError(
    `${name} must be 32 bytes as 64 hex digits or base64 (openssl rand -hex 32)`,
  );
}

function origin(raw: string | undefined, name: string): string | undefined {
  if (raw === undefined || raw === '') {
    return undefined;
  }

  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}`;
  } catch {
    throw new ConfigError(`${name} must be an absolute URL such as https://convert.example.com`);
  }
}
