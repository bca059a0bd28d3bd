// import/google-cloud-storage and export/google-cloud-storage through the official node SDK.
// No GCS emulator installs here, so the test serves a stand-in on 127.0.0.1 (the `endpoint`
// extension) that checks what Google's official client sends: the OAuth JWT assertion, signed
// with the RSA key made here, at `<endpoint>/token`; then the bearer token on every JSON API and
// upload call. It proves the signing and the protocol, not every behaviour of the real service.
import { createHash, createVerify, generateKeyPairSync, randomUUID } from 'node:crypto';
import type http from 'node:http';

import { CRC32C } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api } from '../../../test/harness';
import {
  byName,
  createJob,
  expectFinished,
  sdkStack,
  startServer,
  taskOf,
  waitJob,
  type TestServer,
} from './support';
import { readAll } from './storage-support';

const CLIENT_EMAIL = 'convertd@test-project.iam.gserviceaccount.com';
const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const other = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

const sdk = sdkStack('gcs');
let server: TestServer;
const tokens = new Set<string>();
const objects = new Map<string, Buffer>();
const assertions: Record<string, unknown>[] = [];
const unexpected: string[] = [];

beforeAll(async () => {
  server = await startServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  objects.set('in/report.txt', Buffer.from('gcs report\n'));
  objects.set('batch/a.txt', Buffer.from('first'));
  objects.set('batch/b.txt', Buffer.from('second'));
});

afterAll(async () => {
  await server?.close();
});

function json(res: http.ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function notFound(res: http.ServerResponse, what: string): void {
  json(res, 404, {
    error: { code: 404, message: what, errors: [{ reason: 'notFound', message: what }] },
  });
}

/** Verifies an RS256 JWT against the test's public key and returns its claims, or null. */
function verifiedClaims(jwt: string): Record<string, unknown> | null {
  const [header, claims, signature] = jwt.split('.');
  if (!header || !claims || !signature) {
    return null;
  }
  const verify = createVerify('RSA-SHA256');
  verify.update(`${header}.${claims}`);
  if (!verify.verify(publicKey, Buffer.from(signature, 'base64url'))) {
    return null;
  }
  const head = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string };

  return head.alg === 'RS256'
    ? (JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>)
    : null;
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', server.origin);
  const body = await readAll(req);

  if (req.method === 'POST' && url.pathname === '/token') {
    const form = new URLSearchParams(body.toString());
    const claims =
      form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer'
        ? verifiedClaims(form.get('assertion') ?? '')
        : null;
    if (
      !claims ||
      claims.iss !== CLIENT_EMAIL ||
      !String(claims.scope).includes('devstorage') ||
      Number(claims.exp) * 1000 < Date.now()
    ) {
      json(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
      return;
    }
    assertions.push(claims);
    const token = randomUUID();
    tokens.add(token);
    json(res, 200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
    return;
  }

  const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
  if (!bearer || !tokens.has(bearer)) {
    json(res, 401, { error: { code: 401, message: 'Invalid Credentials' } });
    return;
  }
  const route = /^\/(upload\/)?storage\/v1\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(url.pathname);
  if (!route) {
    unexpected.push(`${req.method} ${url.pathname}`);
    notFound(res, 'Not Found');
    return;
  }
  const [, upload, bucket, encoded] = route;
  if (bucket !== 'files') {
    notFound(res, 'The specified bucket does not exist.');
    return;
  }
  const name = encoded === undefined ? undefined : decodeURIComponent(encoded);
  // The client checks its uploads and downloads against these hashes, as real GCS sends them.
  const hashes = (n: string) => {
    const content = objects.get(n) ?? Buffer.alloc(0);
    const crc = new CRC32C();
    crc.update(content);
    return {
      crc32c: crc.toString(),
      md5Hash: createHash('md5').update(content).digest('base64'),
    };
  };
  const resource = (n: string) => ({
    kind: 'storage#object',
    bucket,
    name: n,
    size: String(objects.get(n)?.length ?? 0),
    ...hashes(n),
  });

  if (upload && req.method === 'POST' && url.searchParams.get('uploadType') === 'multipart') {
    const [meta, content] = multipart(req, body);
    // The client names the object in the metadata part or in the query.
    const target = (meta as { name?: string }).name ?? url.searchParams.get('name') ?? '';
    if (target === '') {
      json(res, 400, { error: { code: 400, message: 'Required: object name' } });
      return;
    }
    objects.set(target, content);
    json(res, 200, resource(target));
    return;
  }
  if (req.method === 'GET' && name === undefined) {
    const prefix = url.searchParams.get('prefix') ?? '';
    const items = [...objects.keys()]
      .filter((k) => k.startsWith(prefix))
      .sort()
      .map(resource);
    json(res, 200, { kind: 'storage#objects', items });
    return;
  }
  if (req.method === 'GET' && name !== undefined) {
    const object = objects.get(name);
    if (!object) {
      notFound(res, `No such object: ${bucket}/${name}`);
      return;
    }
    if (url.searchParams.get('alt') === 'media') {
      const { crc32c, md5Hash } = hashes(name);
      res
        .writeHead(200, {
          'content-type': 'application/octet-stream',
          'x-goog-hash': `crc32c=${crc32c},md5=${md5Hash}`,
        })
        .end(object);
    } else {
      json(res, 200, resource(name));
    }
    return;
  }
  unexpected.push(`${req.method} ${url.pathname}${url.search}`);
  json(res, 405, { error: { code: 405, message: 'not served by this stand-in' } });
}

/** The JSON metadata part and the content part of a multipart/related upload. */
function multipart(req: http.IncomingMessage, body: Buffer): [unknown, Buffer] {
  const boundary = /boundary="?([^";]+)"?/.exec(String(req.headers['content-type']))?.[1] ?? '';
  const parts: Buffer[] = [];
  let from = body.indexOf(`--${boundary}`) + boundary.length + 2;
  for (;;) {
    const next = body.indexOf(`\r\n--${boundary}`, from);
    if (next === -1) {
      break;
    }
    const part = body.subarray(from, next);
    parts.push(part.subarray(part.indexOf('\r\n\r\n') + 4));
    from = next + boundary.length + 4;
  }

  return [JSON.parse(parts[0]!.toString()), parts[1]!];
}

const account = () => ({
  project_id: 'test-project',
  bucket: 'files',
  client_email: CLIENT_EMAIL,
  private_key: privateKey,
  endpoint: server.origin,
});

describe('Google Cloud Storage through the official SDK', () => {
  it('signs in as the service account, imports an object and exports it under a prefix', async () => {
    const job = await sdk.runJob({
      in: { operation: 'import/google-cloud-storage', ...account(), file: 'in/report.txt' },
      out: {
        operation: 'export/google-cloud-storage',
        input: 'in',
        ...account(),
        file_prefix: 'out/',
      },
    });

    expectFinished(job);
    expect(unexpected).toEqual([]);
    expect(taskOf(job, 'in').result?.files).toEqual([
      expect.objectContaining({ filename: 'report.txt', size: 11 }),
    ]);
    expect(objects.get('out/report.txt')?.toString()).toBe('gcs report\n');
    expect(assertions.at(-1)).toMatchObject({
      iss: CLIENT_EMAIL,
      aud: expect.stringContaining('token'),
    });
  });

  it('imports every object under a prefix and exports them to numbered names', async () => {
    const job = await sdk.runJob({
      in: { operation: 'import/google-cloud-storage', ...account(), file_prefix: 'batch/' },
      out: {
        operation: 'export/google-cloud-storage',
        input: 'in',
        ...account(),
        file: 'numbered/%d.txt',
      },
    });

    expectFinished(job);
    expect(taskOf(job, 'in').result?.files?.map((f) => f.filename)).toEqual(['a.txt', 'b.txt']);
    expect(objects.get('numbered/1.txt')?.toString()).toBe('first');
    expect(objects.get('numbered/2.txt')?.toString()).toBe('second');
  });
});

describe('Google Cloud Storage failures', () => {
  const failing = async (task: Record<string, unknown>) => {
    const created = await createJob(sdk.stack, sdk.key, { t: task });
    return byName(await waitJob(sdk.stack, sdk.key, created.id), 't');
  };

  it('says Google refused a key that is not the service account key, without the key', async () => {
    const task = await failing({
      operation: 'import/google-cloud-storage',
      ...account(),
      private_key: other.privateKey,
      file: 'in/report.txt',
    });
    expect(task).toMatchObject({ status: 'error', code: 'IMPORT_FAILED' });
    expect(task.message).toBe(
      'Google refused the service account (client_email or private_key) when signing in.',
    );
  });

  it('says a private key that is not PEM cannot be read', async () => {
    const task = await failing({
      operation: 'import/google-cloud-storage',
      ...account(),
      private_key: 'not a key',
      file: 'in/report.txt',
    });
    expect(task.message).toBe(
      'The private key could not be read (it must be the PEM key of the service account).',
    );
  });

  it('names a missing object and a missing bucket', async () => {
    const object = await failing({
      operation: 'import/google-cloud-storage',
      ...account(),
      file: 'in/none.txt',
    });
    expect(object.message).toBe('The Google Cloud Storage object "in/none.txt" does not exist.');
    const bucket = await failing({
      operation: 'import/google-cloud-storage',
      ...account(),
      bucket: 'nope',
      file_prefix: 'x',
    });
    expect(bucket.message).toBe('The Google Cloud Storage bucket does not exist.');
  });
});

describe('Google Cloud Storage fields at creation', () => {
  it('accepts made-up credentials', async () => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/import/google-cloud-storage', {
      project_id: 'p',
      bucket: 'b',
      client_email: 'e@example.com',
      private_key: 'k',
      file: 'f.pdf',
    });
    expect(res.status).toBe(201);
  });

  it('refuses a task without the service account, naming each field', async () => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/import/google-cloud-storage', {
      project_id: 'p',
      bucket: 'b',
      file_prefix: 'x/',
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.json.errors).sort()).toEqual(['client_email', 'private_key']);
  });
});
