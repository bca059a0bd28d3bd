// The S3 client of one `import/s3` or `export/s3` task: the task's own credentials (never the
// worker's), its endpoint under the outbound policy, its deadline on every call, and failures
// told as the remote problem without a secret.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

import { S3Client } from '@aws-sdk/client-s3';
import { AppError, isAppError } from '@convertd/errors';
import { resolveHost } from '@convertd/outbound';

type Payload = Record<string, unknown>;
export type Direction = 'import' | 'export';

export interface TaskS3 {
  client: S3Client;
  bucket: string;
  /** The host the calls go to, for messages. */
  host: string;
  close(): void;
}

/** No answer within this long to a connect, or silence this long mid-transfer, fails the call. */
const CONNECT_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 60_000;

export async function openTaskS3(
  payload: Payload,
  options: { allowPrivate: boolean; direction: Direction },
): Promise<TaskS3> {
  const bucket = String(payload.bucket);
  const region = String(payload.region);
  const endpoint =
    typeof payload.endpoint === 'string' && payload.endpoint !== '' ? payload.endpoint : undefined;
  const host = endpoint ? new URL(endpoint).hostname : `s3.${region}.amazonaws.com`;
  // Checked once here (an IP literal never reaches the agents' lookup), and again by the agents
  // on every connection, so that a DNS answer that changes later is checked too.
  try {
    await resolveHost(host, { allowPrivate: options.allowPrivate });
  } catch (err) {
    throw s3Failure(err, { direction: options.direction, bucket, host });
  }
  const lookup = policyLookup(options.allowPrivate);
  const httpAgent = new http.Agent({ keepAlive: true, lookup });
  const httpsAgent = new https.Agent({ keepAlive: true, lookup });
  const client = new S3Client({
    region,
    endpoint,
    // A custom endpoint (MinIO, Ceph, s3rver) rarely resolves bucket sub-domains.
    forcePathStyle: endpoint !== undefined,
    credentials: {
      accessKeyId: String(payload.access_key_id),
      secretAccessKey: String(payload.secret_access_key),
      sessionToken:
        typeof payload.session_token === 'string' && payload.session_token !== ''
          ? payload.session_token
          : undefined,
    },
    requestHandler: {
      httpAgent,
      httpsAgent,
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: IDLE_TIMEOUT_MS,
    },
    maxAttempts: 2,
    // Plain checksums only where the API requires them: S3-compatible servers differ on the rest.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  return {
    client,
    bucket,
    host,
    close() {
      client.destroy();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** The agents resolve through the outbound policy, and connect only to what it allowed. */
function policyLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolveHost(hostname, { allowPrivate }).then(
      (addresses) => {
        if (options.all) {
          callback(null, addresses);
          return;
        }
        const first = addresses.find((a) => !options.family || a.family === options.family);
        if (!first) {
          callback(
            Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }),
            '',
            0,
          );
          return;
        }
        callback(null, first.address, first.family);
      },
      (err: Error) => callback(err, '', 0),
    );
  };
}

interface FailureContext {
  direction: Direction;
  bucket: string;
  host: string;
  key?: string | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * An SDK or socket error as IMPORT_FAILED / EXPORT_FAILED naming the remote problem. Only error
 * names, codes and statuses are read: the SDK's own messages are not repeated to the user.
 */
export function s3Failure(err: unknown, at: FailureContext): AppError {
  if (at.signal?.aborted && isAppError(at.signal.reason)) {
    return at.signal.reason;
  }
  const code = at.direction === 'import' ? 'IMPORT_FAILED' : 'EXPORT_FAILED';
  if (isAppError(err)) {
    // The outbound policy speaks of imports; an export keeps its message under its own code.
    return err.code === 'IMPORT_FAILED' && code === 'EXPORT_FAILED'
      ? new AppError(code, { message: err.message, details: err.details, cause: err })
      : err;
  }

  const e = (err ?? {}) as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const name = typeof e.name === 'string' ? e.name : '';
  const sys = typeof e.code === 'string' ? e.code : '';
  const status = e.$metadata?.httpStatusCode;
  const object = at.key === undefined ? '' : `the key ${at.key} in `;
  const message = (() => {
    // A socket's code (ECONNREFUSED) says more than the error class around it.
    switch (/^E[A-Z_]+$/.test(sys) ? sys : name || sys) {
      case 'NoSuchBucket':
        return `The bucket ${at.bucket} does not exist.`;
      case 'NoSuchKey':
      case 'NotFound':
        return `The key ${at.key ?? ''} does not exist in the bucket ${at.bucket}.`;
      case 'InvalidAccessKeyId':
        return 'The S3 service does not know the access key id.';
      case 'SignatureDoesNotMatch':
        return 'The S3 service refused the secret access key (the signature does not match).';
      case 'ExpiredToken':
      case 'InvalidToken':
      case 'TokenRefreshRequired':
        return 'The S3 service refused the session token (invalid or expired).';
      case 'AccessDenied':
      case 'AllAccessDisabled':
        return `Access to ${object}the bucket ${at.bucket} was denied.`;
      case 'AuthorizationHeaderMalformed':
      case 'PermanentRedirect':
      case 'IllegalLocationConstraintException':
        return `The bucket ${at.bucket} is not in the region given.`;
      case 'ECONNREFUSED':
        return `The S3 endpoint ${at.host} refused the connection.`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `The S3 endpoint ${at.host} could not be resolved.`;
      case 'ETIMEDOUT':
      case 'TimeoutError':
      case 'RequestTimeout':
        return `The S3 endpoint ${at.host} did not answer in time.`;
      case 'ECONNRESET':
      case 'EPIPE':
        return `The S3 endpoint ${at.host} closed the connection.`;
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return `The S3 endpoint ${at.host} could not be reached.`;
    }
    if (/CERT|ERR_TLS|ERR_SSL|SELF_SIGNED|UNABLE_TO/.test(sys)) {
      return `The TLS certificate of the S3 endpoint ${at.host} could not be verified.`;
    }
    if (status === 403) {
      return `Access to ${object}the bucket ${at.bucket} was denied.`;
    }
    if (status === 404) {
      return at.key === undefined
        ? `The bucket ${at.bucket} does not exist.`
        : `The key ${at.key} does not exist in the bucket ${at.bucket}.`;
    }
    if (status !== undefined) {
      return `The S3 service answered HTTP ${status}${name ? ` (${name})` : ''}.`;
    }
    return `The S3 endpoint ${at.host} could not be reached${sys ? ` (${sys})` : ''}.`;
  })();

  return new AppError(code, {
    message,
    cause: err,
    details: { bucket: at.bucket, host: at.host, status, error: name || sys || undefined },
  });
}
