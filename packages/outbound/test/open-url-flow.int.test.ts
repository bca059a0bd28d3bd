import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Readable } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { openUrl } from '../src/open-url';
import type { HostLookup } from '../src/types';
import { listen, startLocalServer } from './local-server';
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

const toLocal: HostLookup = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);

describe(`${openUrl.name} redirects`, () => {
  it('follows relative and absolute Location headers across 301, 302, 303, 307 and 308', async () => {
    const server = await serve((req, res) => {
      const hops: Record<string, [number, string]> = {
        '/start': [301, '/a/one'],
        '/a/one': [302, 'two'],
        '/a/two': [303, `http://127.0.0.1:${port}/b/three`],
        '/b/three': [307, '//127.0.0.1:PORT/b/four'.replace('PORT', String(port))],
        '/b/four': [308, '/final/report.pdf?v=2'],
      };
      const hop = hops[req.url ?? ''];
      if (hop === undefined) {
        res.end('done');

        return;
      }

      res.writeHead(hop[0], { location: hop[1] });
      res.end();
    });
    const port = server.port;

    const result = await openUrl(`${server.origin}/start`, { allowPrivate: true });

    expect((await readAll(result.body)).toString()).toBe('done');
    expect(result.finalUrl).toBe(`${server.origin}/final/report.pdf?v=2`);
    expect(result.filename).toBe('report.pdf');
    expect(server.requests.map((r) => r.url)).toHaveLength(6);
  });

  it('fails after maxRedirects', async () => {
    const server = await serve((req, res) => {
      const n = Number((req.url ?? '/0').slice(1));
      res.writeHead(302, { location: `/${n + 1}` });
      res.end();
    });

    await expect(
      openUrl(`${server.origin}/0`, { allowPrivate: true, maxRedirects: 3 }),
    ).rejects.toMatchObject({
      code: 'IMPORT_FAILED',
      message: 'The URL redirected more than 3 times.',
    });
    expect(server.requests).toHaveLength(4);
  });

  it('refuses a redirect to file:///etc/passwd', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(302, { location: 'file:///etc/passwd' });
      res.end();
    });

    await expect(openUrl(`${server.origin}/`, { allowPrivate: true })).rejects.toMatchObject({
      code: 'URL_NOT_ALLOWED',
    });
  });

  it('drops Authorization and Cookie on a redirect to another origin', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/start') {
        res.writeHead(302, { location: `http://other.test:${server.port}/next` });
        res.end();

        return;
      }

      res.end('ok');
    });

    const result = await openUrl(`http://user:pw@127.0.0.1:${server.port}/start`, {
      allowPrivate: true,
      headers: { Cookie: 'session=1', 'X-Keep': 'yes' },
      lookup: toLocal,
    });
    await readAll(result.body);

    expect(server.requests[0]?.headers).toMatchObject({ cookie: 'session=1' });
    expect(server.requests[0]?.headers.authorization).toMatch(/^Basic /);
    expect(server.requests[1]?.headers).toMatchObject({
      'x-keep': 'yes',
      host: `other.test:${server.port}`,
    });
    expect(server.requests[1]?.headers.authorization).toBeUndefined();
    expect(server.requests[1]?.headers.cookie).toBeUndefined();
  });
});

describe(`${openUrl.name} limits`, () => {
  it('refuses a declared Content-Length above maxBytes', async () => {
    const server = await serve((_req, res) => res.end(Buffer.alloc(2048)));

    await expect(
      openUrl(`${server.origin}/`, { allowPrivate: true, maxBytes: 1024 }),
    ).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
  });

  it('fails the body stream once a chunked body passes maxBytes', async () => {
    const server = await serve((_req, res) => {
      res.write(Buffer.alloc(800));
      setTimeout(() => res.end(Buffer.alloc(800)), 20);
    });

    const result = await openUrl(`${server.origin}/`, { allowPrivate: true, maxBytes: 1024 });

    expect(result.contentLength).toBeUndefined();
    await expect(readAll(result.body)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('accepts a body of exactly maxBytes', async () => {
    const server = await serve((_req, res) => res.end(Buffer.alloc(1024, 1)));

    const result = await openUrl(`${server.origin}/`, { allowPrivate: true, maxBytes: 1024 });

    expect(result.contentLength).toBe(1024);
    expect(await readAll(result.body)).toHaveLength(1024);
  });

  it('times out a server that never answers', async () => {
    const server = await serve(() => undefined);
    const started = Date.now();

    await expect(
      openUrl(`${server.origin}/`, { allowPrivate: true, timeoutMs: 300 }),
    ).rejects.toMatchObject({
      code: 'IMPORT_FAILED',
      message: 'The URL did not answer within 0.3 seconds.',
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server.requests).toHaveLength(1);
  });

  it('fails the body stream when the server stalls mid-body', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });

    const result = await openUrl(`${server.origin}/`, { allowPrivate: true, idleTimeoutMs: 200 });

    await expect(readAll(result.body)).rejects.toMatchObject({
      code: 'IMPORT_FAILED',
      message: expect.stringContaining('stopped sending data for 0.2 seconds') as string,
    });
  });

  it('does not time out while the caller applies backpressure', async () => {
    const server = await serve((_req, res) => res.end(Buffer.alloc(4 * 1024 * 1024)));

    const result = await openUrl(`${server.origin}/`, { allowPrivate: true, idleTimeoutMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 800));

    expect(await readAll(result.body)).toHaveLength(4 * 1024 * 1024);
  });

  it('fails the body stream when the connection drops early', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('only a little', () => res.socket?.destroy());
    });

    const result = await openUrl(`${server.origin}/`, { allowPrivate: true });

    await expect(readAll(result.body)).rejects.toMatchObject({
      code: 'IMPORT_FAILED',
      message: expect.stringContaining('closed before the whole file was received') as string,
    });
  });

  it('aborts while waiting for headers', async () => {
    const server = await serve(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    await expect(
      openUrl(`${server.origin}/`, { allowPrivate: true, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('aborts a body that is streaming', async () => {
    const server = await serve((_req, res) => res.write('start'));
    const controller = new AbortController();

    const result = await openUrl(`${server.origin}/`, {
      allowPrivate: true,
      signal: controller.signal,
    });
    controller.abort();

    await expect(readAll(result.body)).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('aborts a body that fully arrived but was not read yet', async () => {
    const server = await serve((_req, res) => res.end('small'));
    const controller = new AbortController();

    const result = await openUrl(`${server.origin}/`, {
      allowPrivate: true,
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();

    await expect(readAll(result.body)).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('keeps the SNI name of a pinned host and reports a bad certificate', async () => {
    const dir = new URL('./fixtures/', import.meta.url);
    const tls = {
      cert: readFileSync(new URL('self-signed.crt', dir)),
      key: readFileSync(new URL('self-signed.key', dir)),
    };
    const sniNames: string[] = [];
    const https = createServer({
      ...tls,
      SNICallback: (name, cb) => {
        sniNames.push(name);
        cb(null, createSecureContext(tls));
      },
    });
    const server = await listen(https, []);
    servers.push(server);

    await expect(
      openUrl(`https://files.test:${server.port}/`, { allowPrivate: true, lookup: toLocal }),
    ).rejects.toMatchObject({
      code: 'IMPORT_FAILED',
      message: `The TLS certificate of files.test:${server.port} could not be verified.`,
    });
    expect(sniNames).toEqual(['files.test']);
  });
});
