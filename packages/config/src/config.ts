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
  /** Origin put into every URL the server returns; when unset, taken from the request. */
  readonly publicUrl: string | undefined;
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
  readonly workerConcurrency: number;
  readonly maxUploadBytes: number;
  /** Seconds a task may run when it sets no `timeout`, and the most it may ask for. */
  readonly defaultTaskTimeoutSec: number;
  readonly maxTaskTimeoutSec: number;
  /** Lifetime of signed upload and download URLs. */
  readonly signedUrlTtlSec: number;
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
    publicUrl: origin(env.PUBLIC_URL),
    dataDir,
    storageDriver: driver(env),
    s3: s3Settings(env),
    retentionHours: hours(env, 'RETENTION_HOURS', 24),
    workDir: path.resolve(env.WORK_DIR ?? path.join(os.tmpdir(), 'convertd-work')),
    queuePrefix: env.QUEUE_PREFIX ?? 'convertd',
    allowPrivateUrls: bool(env, 'CONVERTD_ALLOW_PRIVATE_URLS', false),
    bootstrapApiKey: env.CONVERTD_BOOTSTRAP_API_KEY || undefined,
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', Math.max(1, os.availableParallelism())),
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 1024 * 1024 * 1024),
    defaultTaskTimeoutSec: int(env, 'TASK_TIMEOUT', 300),
    maxTaskTimeoutSec: int(env, 'MAX_TASK_TIMEOUT', 5 * 3600),
    signedUrlTtlSec: int(env, 'SIGNED_URL_TTL', 24 * 3600),
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

function origin(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') {
    return undefined;
  }

  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}`;
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute URL such as https://convert.example.com`);
  }
}
