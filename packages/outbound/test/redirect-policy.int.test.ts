// Redirect hops under allowPrivate=false. With no internet here, this file treats 127.0.0.1 as the
// one "public" address (every other address keeps the real policy), so a first hop can succeed.
import type * as CheckAddress from '../src/check-address';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { openUrl } from '../src/open-url';
import type { HostLookup } from '../src/types';
import { startLocalServer } from './local-server';
import type { LocalServer } from './local-server';

vi.mock('../src/check-address', async (importOriginal) => {
  const real = await importOriginal<typeof CheckAddress>();

  return {
    checkAddress: (ip: string) => (ip === '127.0.0.1' ? { allowed: true } : real.checkAddress(ip)),
  };
});

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
});

async function redirectingServer(location: (port: number) => string): Promise<LocalServer> {
  const started = await startLocalServer((req, res) => {
    if (req.url === '/start') {
      res.writeHead(302, { location: location(started.port) });
      res.end();

      return;
    }

    res.end('reached');
  });

  return started;
}

describe(`${openUrl.name} redirect policy`, () => {
  it.each([
    (port: number) => `http://127.0.0.2:${port}/`,
    (port: number) => `http://0177.0.0.2:${port}/`,
    (port: number) => `http://[::1]:${port}/`,
    (port: number) => `http://[::ffff:7f00:2]:${port}/`,
    (port: number) => `http://2130706434:${port}/`,
  ])('refuses a redirect to a private address (%#)', async (location) => {
    server = await redirectingServer(location);

    await expect(openUrl(`${server.origin}/start`, { allowPrivate: false })).rejects.toMatchObject({
      code: 'URL_NOT_ALLOWED',
    });
    expect(server.requests.map((r) => r.url)).toEqual(['/start']);
  });

  it('follows a redirect between allowed addresses', async () => {
    server = await redirectingServer((port) => `http://127.0.0.1:${port}/next`);

    const result = await openUrl(`${server.origin}/start`, { allowPrivate: false });
    result.body.resume();

    expect(server.requests.map((r) => r.url)).toEqual(['/start', '/next']);
  });

  it('pins each hop to the answer it checked, so a rebinding host cannot reach a private address', async () => {
    server = await redirectingServer(() => '/next');
    const answers = ['127.0.0.1', '127.0.0.2'];
    const lookup = vi.fn<HostLookup>(() =>
      Promise.resolve([{ address: answers.shift() ?? '127.0.0.2', family: 4 }]),
    );

    await expect(
      openUrl(`http://rebind.test:${server.port}/start`, { allowPrivate: false, lookup }),
    ).rejects.toMatchObject({ code: 'URL_NOT_ALLOWED' });
    expect(lookup).toHaveBeenCalledTimes(2);
    expect(server.requests.map((r) => r.url)).toEqual(['/start']);
    expect(server.requests[0]?.headers.host).toBe(`rebind.test:${server.port}`);
  });
});
