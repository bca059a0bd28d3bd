import { describe, expect, it, vi } from 'vitest';

import { resolveHost } from '../src/resolve-host';
import type { HostLookup, ResolvedAddress } from '../src/types';

function fakeLookup(answers: ResolvedAddress[]): HostLookup {
  return vi.fn(() => Promise.resolve(answers));
}

describe(resolveHost.name, () => {
  it('passes a host whose answers are all public', async () => {
    const answers: ResolvedAddress[] = [
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ];
    const lookup = fakeLookup(answers);

    await expect(resolveHost('example.test', { allowPrivate: false, lookup })).resolves.toEqual(
      answers,
    );
    expect(lookup).toHaveBeenCalledWith('example.test');
  });

  it('refuses a host when any answer is private', async () => {
    const lookup = fakeLookup([
      { address: '93.184.215.14', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ]);

    await expect(resolveHost('mixed.test', { allowPrivate: false, lookup })).rejects.toMatchObject({
      code: 'URL_NOT_ALLOWED',
      details: { address: '10.0.0.5', reason: 'private' },
    });
  });

  it('refuses a host answering a mapped metadata address', async () => {
    const lookup = fakeLookup([{ address: '::ffff:169.254.169.254', family: 6 }]);

    await expect(resolveHost('meta.test', { allowPrivate: false, lookup })).rejects.toMatchObject({
      code: 'URL_NOT_ALLOWED',
    });
  });

  it('lets private answers through when allowPrivate is set', async () => {
    const lookup = fakeLookup([{ address: '10.0.0.5', family: 4 }]);

    await expect(
      resolveHost('intranet.test', { allowPrivate: true, lookup }),
    ).resolves.toHaveLength(1);
  });

  it('checks IP literals without a lookup', async () => {
    const lookup = fakeLookup([]);

    await expect(resolveHost('[::1]', { allowPrivate: false, lookup })).rejects.toMatchObject({
      code: 'URL_NOT_ALLOWED',
    });
    await expect(resolveHost('8.8.8.8', { allowPrivate: false, lookup })).resolves.toEqual([
      { address: '8.8.8.8', family: 4 },
    ]);
    expect(lookup).not.toHaveBeenCalled();
  });

  it('names the host that could not be resolved', async () => {
    const lookup: HostLookup = () =>
      Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));

    await expect(
      resolveHost('nowhere.test', { allowPrivate: false, lookup }),
    ).rejects.toMatchObject({
      code: 'IMPORT_FAILED',
      message: 'The host nowhere.test could not be resolved.',
    });
  });

  it('treats an empty answer as unresolved', async () => {
    await expect(
      resolveHost('empty.test', { allowPrivate: false, lookup: fakeLookup([]) }),
    ).rejects.toMatchObject({ code: 'IMPORT_FAILED' });
  });
});
