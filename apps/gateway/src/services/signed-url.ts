// Signed URLs (API.md §6): `<origin>/s/<key id>?job=<base64 of the job JSON>[&cache_key=K]&s=<sig>`
// where sig is the hex HMAC-SHA256, keyed with the signing key's secret, of everything before
// `&s=`. Each SDK encodes the job its own way; all of them decode here.
import { createHmac, timingSafeEqual } from 'node:crypto';

import { AppError } from '@convertd/errors';

export interface SignedRequest {
  keyId: string;
  /** The path and query as the client sent them, up to (not including) `&s=`. */
  signed: string;
  signature: string;
  /** The raw `job` and `cache_key` values (null when absent). */
  job: string | null;
  cacheKey: string | null;
}

/**
 * Splits `/s/<id>?…&s=<hex>` (any path: the key id is its last segment); null when the URL has
 * no signature at its end.
 */
export function parseSignedRequest(rawUrl: string): SignedRequest | null {
  const match = /^\/(?:[^?]*\/)?([^/?]+)\?(.*)&s=([0-9a-fA-F]{64})$/s.exec(rawUrl);
  if (!match) {
    return null;
  }

  const params = new Map<string, string>();
  for (const part of match[2]!.split('&')) {
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    if (!params.has(name)) {
      params.set(name, eq === -1 ? '' : part.slice(eq + 1));
    }
  }
  const cacheKey = params.get('cache_key');

  return {
    keyId: match[1]!,
    signed: rawUrl.slice(0, rawUrl.length - 67),
    signature: match[3]!.toLowerCase(),
    job: params.get('job') ?? null,
    cacheKey: cacheKey === undefined || cacheKey === '' ? null : percentDecoded(cacheKey),
  };
}

/**
 * True when the signature is the HMAC of the URL as signed under one of the origins the client
 * may have used (PUBLIC_URL, the request's own); the signed text is also tried percent-decoded,
 * for clients that escaped what the SDK signed raw (a space in a cache key). Constant time.
 */
export function hasValidSignature(
  request: SignedRequest,
  secret: string,
  origins: readonly string[],
): boolean {
  const given = Buffer.from(request.signature, 'hex');
  const texts = new Set([request.signed, percentDecoded(request.signed)]);
  let valid = false;
  for (const origin of new Set(origins)) {
    for (const text of texts) {
      const expected = createHmac('sha256', secret).update(`${origin}${text}`, 'utf8').digest();
      valid = timingSafeEqual(expected, given) || valid;
    }
  }

  return valid;
}

/**
 * The job JSON text of a `job` value in any SDK's base64: url-safe without padding (PHP, .NET,
 * Ruby), url-safe with padding (Python), node's mix of `+ /` and `- _`, standard base64, and any
 * of them percent-escaped on the way.
 */
export function decodeJobParam(raw: string): string {
  const text = percentDecoded(raw)
    .replace(/ /g, '+')
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .replace(/=+$/, '');
  if (text === '' || !/^[A-Za-z0-9+/]+$/.test(text) || text.length % 4 === 1) {
    throw badJob();
  }

  return Buffer.from(text, 'base64').toString('utf8');
}

/** The job object of a decoded `job` value; 422 when it is not a JSON object. */
export function parseJobJson(json: string): unknown {
  try {
    const value: unknown = JSON.parse(json);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return value;
    }
  } catch {
    // fall through: not JSON
  }

  throw badJob();
}

function badJob(): AppError {
  return new AppError('INVALID_DATA', {
    errors: { job: ['The job parameter must be the base64-encoded JSON of a job.'] },
  });
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
