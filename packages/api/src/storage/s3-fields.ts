// The fields of `import/s3` and `export/s3` (API.md §2.5), checked at creation. Whether the
// credentials work is only known when the task runs: fake ones are accepted here.
export const S3_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
];

type Json = Record<string, unknown>;

/**
 * The canned ACL of an `acl` field. The .NET SDK sends its enum's member names (`PublicRead`
 * for `public-read`); the SDKs win, so those are taken too.
 */
export function s3Acl(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const acl = value.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  return S3_ACLS.includes(acl) ? acl : undefined;
}
type Add = (field: string, message: string) => void;

/** Adds a message per bad field of an S3 import or export. */
export function checkS3Fields(operation: string, def: Json, add: Add): void {
  for (const field of ['bucket', 'region', 'access_key_id', 'secret_access_key']) {
    if (typeof def[field] !== 'string' || def[field].trim() === '') {
      add(field, `The ${label(field)} field is required.`);
    }
  }
  for (const field of ['session_token', 'key', 'key_prefix', 'cache_control']) {
    if (!absent(def[field]) && typeof def[field] !== 'string') {
      add(field, `The ${label(field)} must be a string.`);
    }
  }
  if (!absent(def.endpoint) && !isEndpoint(def.endpoint)) {
    add('endpoint', 'The endpoint must be an http or https URL.');
  }
  if (absent(def.key) && absent(def.key_prefix)) {
    add('key', 'The key or key prefix field is required.');
  } else if (!absent(def.key) && !absent(def.key_prefix)) {
    add('key_prefix', 'Give either key or key prefix, not both.');
  }
  if (operation !== 'export/s3') {
    return;
  }

  if (!absent(def.acl) && s3Acl(def.acl) === undefined) {
    add('acl', `The acl must be one of ${S3_ACLS.join(', ')}.`);
  }
  if (!absent(def.server_side_encryption) && typeof def.server_side_encryption !== 'string') {
    add('server_side_encryption', 'The server side encryption must be a string.');
  }
  for (const field of ['metadata', 'tagging']) {
    if (!absent(def[field]) && !isFlatMap(def[field])) {
      add(field, `The ${field} must be an object of strings.`);
    }
  }
}

function absent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function label(field: string): string {
  return field.replace(/_/g, ' ');
}

function isEndpoint(value: unknown): boolean {
  if (typeof value !== 'string') {
    return false;
  }
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** `{ "a": "b", "n": 1 }`: strings, or numbers and booleans that loosely typed clients send. */
function isFlatMap(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.values(value as Json).every((v) => ['string', 'number', 'boolean'].includes(typeof v))
  );
}
