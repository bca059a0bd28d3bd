import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { openUrl } from '../src/open-url';
import type { HostLookup } from '../src/types';
import { startLocalServer } from './local-server';
import type { LocalServer } from './local-server';

const servers: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Parameters<typeof startLocalServer>[0]): Promise<LocalServer> {
  const server = await startLocalServer(handler);
  servers.push(server);

  return server;
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
  }

  return Buffer.concat(chunks);
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const toLocal: HostLookup = vi.fn(() =>
  Promise.resolve([{ address: '127.0.0.1', family: 4 as const }]),
);

describe(`${openUrl.name} refusals`, () => {
  it.each([
    'http://127.0.0.1:PORT/',
    'http://localhost:PORT/',
    'http://[::1]:PORT/',
    'http://2130706433:PORT/',
    'http://0177.0.0.1:PORT/',
    'http://0x7f.1:PORT/',
    'http://127.1:PORT/',
    'http://[::ffff:127.0.0.1]:PORT/',
    'http://[::ffff:7f00:1]:PORT/',
    'http://169.254.169.254/latest/meta-data/',
    'http://0.0.0.0:PORT/',
  ])('refuses %s before any connection', async (template) => {
    const server = await serve((_req, res) => res.end('secret'));
    const url = template.replace('PORT', String(server.port));

    await expect(openUrl(url, { allowPrivate: false })).rejects.toMatchObject({
      code: 'URL_NOT_ALLOWED',
    });
    expect(server.connections()).toBe(0);
  });

  it.each([
    'file:///etc/passwd',
    'ftp://127.0.0.1/file',
    'data:text/plain,hello',
    'gopher://127.0.0.1:70/_x',
    'javascript:alert(1)',
    'ws://127.0.0.1/',
  ])('refuses the scheme of %s', async (url) => {
    await expect(openUrl(url, { allowPrivate: true })).rejects.toMatchObject({
      code: 'URL_NOT_ALLOWED',
    });
  });

  it('refuses a text that is not a URL', async () => {
    await expect(openUrl('not a url', { allowPrivate: true })).rejects.toMatchObject({
      code: 'URL_NOT_ALLOWED',
    });
  });

  it('refuses a host whose answers mix public and private addresses', async () => {
    const lookup: HostLookup = () =>
      Promise.resolve([
        { address: '93.184.215.14', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ]);

    await expect(
      openUrl('http://mixed.test/', { allowPrivate: false, lookup }),
    ).rejects.toMatchObject({
      code: 'URL_NOT_ALLOWED',
      message: expect.stringMatching(
        /^The URL points to a loopback, private or link-local address/,
      ) as string,
    });
  });

  it('fails with IMPORT_FAILED for a name that does not resolve', async () => {
    await expect(
      openUrl('http://does-not-exist.invalid/', { allowPrivate: false }),
    ).rejects.toMatchObject({
      code: 'IMPORT_FAILED',
      message: 'The host does-not-exist.invalid could not be resolved.',
    });
  });
});

describe(`${openUrl.name} downloads`, () => {
  it('streams a download byte-exact', async () => {
    const payload = randomBytes(1024 * 1024 + 17);
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(payload.subarray(0, 1000));
      void released.then(() => res.end(payload.subarray(1000)));
    });

    const result = await openUrl(`${server.origin}/files/data.bin`, { allowPrivate: true });
    const first = (await result.body[Symbol.asyncIterator]().next()).value as Buffer;
    release();
    const rest = await readAll(result.body);

    expect(first.length).toBeGreaterThan(0);
    expect(sha(Buffer.concat([first, rest]))).toBe(sha(payload));
    expect(result).toMatchObject({
      status: 200,
      filename: 'data.bin',
      contentType: 'application/octet-stream',
      contentLength: undefined,
      finalUrl: `${server.origin}/files/data.bin`,
    });
  });

  it('connects to the checked address and keeps the host name (pinning)', async () => {
    const server = await serve((_req, res) => res.end('pinned'));
    const lookup = vi.fn(toLocal);

    const result = await openUrl(`http://files.test:${server.port}/a.txt`, {
      allowPrivate: true,
      lookup,
    });

    expect((await readAll(result.body)).toString()).toBe('pinned');
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(server.requests[0]?.headers.host).toBe(`files.test:${server.port}`);
  });

  it('sends URL credentials as basic auth and never shows them', async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    const url = `http://user:p%40ss@127.0.0.1:${server.port}/x`;

    const err: unknown = await openUrl(url, { allowPrivate: true }).catch((e: unknown) => e);

    const expected = `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
    expect(server.requests[0]?.headers.authorization).toBe(expected);
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toMatch(/p%40ss|p@ss/);
  });

  it('sends the caller headers and user agent', async () => {
    const server = await serve((_req, res) => res.end('ok'));

    const result = await openUrl(`${server.origin}/`, {
      allowPrivate: true,
      headers: { 'X-Token': 'abc', Host: 'evil.test' },
      userAgent: 'convertd-test/1',
    });
    await readAll(result.body);

    expect(server.requests[0]?.headers).toMatchObject({
      'x-token': 'abc',
      'user-agent': 'convertd-test/1',
      host: `127.0.0.1:${server.port}`,
    });
  });

  it('decodes a UTF-8 filename* from Content-Disposition', async () => {
    const server = await serve((_req, res) => {
      res.setHeader(
        'content-disposition',
        `attachment; filename="fallback.jpg"; filename*=UTF-8''K%C3%A4tze%20%E7%8C%AB.jpg`,
      );
      res.end('jpg');
    });

    const result = await openUrl(`${server.origin}/download?id=1`, { allowPrivate: true });
    await readAll(result.body);

    expect(result.filename).toBe('Kätze 猫.jpg');
  });

  it('fails with IMPORT_FAILED naming a 404', async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 404;
      res.end('nope');
    });

    await expect(openUrl(`${server.origin}/missing`, { allowPrivate: true })).rejects.toMatchObject(
      {
        code: 'IMPORT_FAILED',
        message: 'The URL answered HTTP 404 Not Found.',
      },
    );
  });

  it('fails with IMPORT_FAILED naming a 503', async () => {
    const server = await serve((_req, res) => {
      res.statusCode = 503;
      res.end();
    });

    await expect(openUrl(`${server.origin}/`, { allowPrivate: true })).rejects.toMatchObject({
      code: 'IMPORT_FAILED',
      message: 'The URL answered HTTP 503 Service Unavailable.',
    });
  });

  it('fails with IMPORT_FAILED when the connection is refused', async () => {
    const server = await serve((_req, res) => res.end());
    const { port } = server;
    await server.close();
    servers.splice(servers.indexOf(server), 1);

    await expect(
      openUrl(`http://127.0.0.1:${port}/`, { allowPrivate: true }),
    ).rejects.toMatchObject({
      code: 'IMPORT_FAILED',
      message: `The host 127.0.0.1:${port} refused the connection.`,
    });
  });
});
