// HTTPS from TLS_CERT_FILE / TLS_KEY_FILE on both ports, socket.io over wss, and the CloudConvert
// CLI's flow (socket.io, then https.get of the export URLs) trusting a CA the test makes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { loadConfig } from '@convertd/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CORPUS, startStack, type Stack } from '../../../test/harness';
import { readTls } from '../src/services/tls';
import { connect } from './live-helpers';

const exec = promisify(execFile);
const PNG = path.join(CORPUS, 'image/basn6a16.png');

let stack: Stack;
let dir: string;
let ca: string;
let user: { id: number; key: string };

/** A CA, and a server certificate it signed for localhost and 127.0.0.1 (paths without spaces). */
async function makeCertificates(into: string): Promise<void> {
  const at = (name: string) => path.join(into, name);
  const openssl = (args: string) => exec('openssl', args.split(' '));
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  await openssl(
    `req -x509 ${ec} -keyout ${at('ca.key')} -out ${at('ca.pem')} -days 2 -subj /CN=convertd-test-CA ` +
      '-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign',
  );
  await openssl(
    `req ${ec} -keyout ${at('server.key')} -out ${at('server.csr')} -subj /CN=localhost`,
  );
  fs.writeFileSync(
    at('server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  await openssl(
    `x509 -req -in ${at('server.csr')} -CA ${at('ca.pem')} -CAkey ${at('ca.key')} -CAcreateserial ` +
      `-days 2 -extfile ${at('server.ext')} -out ${at('server.pem')}`,
  );
}

function get(url: string, options: https.RequestOptions = {}) {
  return new Promise<{ status: number; json: any }>((resolve, reject) => {
    https
      .get(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString()),
          }),
        );
      })
      .on('error', reject);
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convertd-tls-'));
  await makeCertificates(dir);
  ca = fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8');
  stack = await startStack({
    workerOptions: { engines: [] },
    env: {
      TLS_CERT_FILE: path.join(dir, 'server.pem'),
      TLS_KEY_FILE: path.join(dir, 'server.key'),
    },
  });
  user = await stack.createUser();
});

afterAll(async () => {
  await stack?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('HTTPS', () => {
  it('serves the main and the sync API over HTTPS with the configured certificate', async () => {
    expect(stack.url).toMatch(/^https:/);
    const headers = { authorization: `Bearer ${user.key}` };
    const main = await get(`${stack.url}/v2/users/me`, { ca, headers });
    expect(main.status).toBe(200);
    expect(main.json.data.links.self).toBe(`${stack.url}/v2/users/${user.id}`);
    const sync = await get(`${stack.syncUrl}/v2/users/me`, { ca, headers });
    expect(sync.status).toBe(200);
    // Links from the sync port point at the main port, https included.
    expect(sync.json.data.links.self).toBe(`${stack.url}/v2/users/${user.id}`);

    // Without the CA the certificate is not trusted: it really is the one we made.
    await expect(get(`${stack.url}/healthz`)).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('runs the CLI flow: socket.io over wss, then https.get of the export URLs', async () => {
    const { stdout } = await exec(
      process.execPath,
      [path.join(import.meta.dirname, 'fixtures/cli-flow.mjs')],
      {
        env: {
          ...process.env,
          NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem'),
          API: stack.url,
          KEY: user.key,
          FILE: PNG,
        },
      },
    );
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    const png = fs.readFileSync(PNG);
    expect(out).toEqual({
      event: 'job.finished',
      status: 'finished',
      files: [
        {
          filename: 'basn6a16.png',
          url: expect.stringMatching(new RegExp(`^${stack.url}/download/`)),
          status: 200,
          size: png.length,
          sha256: createHash('sha256').update(png).digest('hex'),
        },
      ],
    });
  });

  it('serves socket.io-client 2 (Engine.IO 3) over wss', async () => {
    const c = connect(stack.url, { version: 'v2', ca });
    try {
      expect(await c.subscribe(`private-user.${user.id}.jobs`, user.key)).toEqual({ ok: true });
    } finally {
      c.close();
    }
  });
});

describe('TLS settings', () => {
  it('wants the certificate and the key together, readable, and matching', async () => {
    expect(() => loadConfig({ TLS_CERT_FILE: path.join(dir, 'server.pem') })).toThrow(
      'TLS_CERT_FILE and TLS_KEY_FILE must be set together',
    );
    const missing = loadConfig({ TLS_CERT_FILE: path.join(dir, 'nope.pem'), TLS_KEY_FILE: 'x' });
    await expect(readTls(missing)).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/^TLS_CERT_FILE cannot be read: ENOENT/),
    });
    const mismatched = loadConfig({
      TLS_CERT_FILE: path.join(dir, 'ca.pem'),
      TLS_KEY_FILE: path.join(dir, 'server.key'),
    });
    await expect(readTls(mismatched)).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/must be a PEM certificate and its key/),
    });
  });
});
