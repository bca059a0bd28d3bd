// Which payload fields carry credentials. They are encrypted at rest (see `PayloadCipher`) and
// masked whenever a payload is shown, so no response, event, webhook or log line carries them.
import { isProcessingOperation } from '../operations';

/** What a shown payload carries instead of a secret value (each value, for `headers`). */
export const SECRET_MASK = '********';

const S3 = ['access_key_id', 'secret_access_key', 'session_token'];
const AZURE = ['storage_access_key', 'sas_token'];
const GCS = ['private_key'];
const OPENSTACK = ['password'];
const SFTP = ['password', 'private_key'];

// TODO(#5): credentials inside a `url` (`user:password@`, a presigned query) are kept and shown
// as sent, as CloudConvert shows import URLs; only the fields below are secret.
const BY_OPERATION: Readonly<Record<string, readonly string[]>> = {
  'import/url': ['headers'],
  'import/s3': S3,
  'export/s3': S3,
  'import/azure/blob': AZURE,
  'export/azure/blob': AZURE,
  'import/google-cloud-storage': GCS,
  'export/google-cloud-storage': GCS,
  'import/openstack': OPENSTACK,
  'export/openstack': OPENSTACK,
  'import/sftp': SFTP,
  'export/sftp': SFTP,
};

/**
 * Every processing operation: the password of a protected input, the passwords `pdf/encrypt`
 * sets, and the extra request headers of the pages Chromium fetches.
 */
const PROCESSING = ['password', 'set_password', 'set_owner_password', 'headers'];

/** The secret fields of an operation's payload; empty for operations that have none. */
export function secretFieldsOf(operation: string): readonly string[] {
  return BY_OPERATION[operation] ?? (isProcessingOperation(operation) ? PROCESSING : []);
}

/**
 * A payload fit to show: each secret field present keeps its key, its value becomes the mask
 * (an object such as `headers` keeps its names, each value masked).
 */
export function maskSecrets(operation: string, payload: unknown): unknown {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return payload;
  }

  const copy = { ...(payload as Record<string, unknown>) };
  for (const field of secretFieldsOf(operation)) {
    const value = copy[field];
    if (value === undefined || value === null) {
      continue;
    }
    copy[field] = isPlainObject(value)
      ? Object.fromEntries(Object.keys(value).map((name) => [name, SECRET_MASK]))
      : SECRET_MASK;
  }

  return copy;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
