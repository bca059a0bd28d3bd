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
  });
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
