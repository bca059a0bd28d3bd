// Resolves a host once and applies the address policy to every answer.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';

import { AppError } from '@convertd/errors';

import { checkAddress } from './check-address';
import type { HostLookup, ResolvedAddress } from './types';

export interface ResolveOptions {
  allowPrivate: boolean;
  lookup?: HostLookup | undefined;
}

/** Resolves with the system resolver, keeping the resolver's order. */
export const systemLookup: HostLookup = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });

  return answers.map((answer) => ({
    address: answer.address,
    family: answer.family === 6 ? 6 : 4,
  }));
};

/**
 * Returns the addresses to connect to, refusing the host when ANY of them is not allowed, so a
 * host cannot mix one public answer with a private one.
 */
export async function resolveHost(
  hostname: string,
  options: ResolveOptions,
): Promise<ResolvedAddress[]> {
  const bare =
    hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const family = isIP(bare);
  const addresses: ResolvedAddress[] =
    family === 0
      ? await lookupHost(bare, options.lookup ?? systemLookup)
      : [{ address: bare, family: family === 6 ? 6 : 4 }];
  if (options.allowPrivate) {
    return addresses;
  }

  for (const { address } of addresses) {
    const verdict = checkAddress(address);
    if (!verdict.allowed) {
      throw new AppError('URL_NOT_ALLOWED', {
        message:
          'The URL points to a loopback, private or link-local address, which this server does not fetch (its operator can allow them with CONVERTD_ALLOW_PRIVATE_URLS).',
        details: { host: bare, address, reason: verdict.reason },
      });
    }
  }

  return addresses;
}

async function lookupHost(hostname: string, lookup: HostLookup): Promise<ResolvedAddress[]> {
  let addresses: ResolvedAddress[];
  try {
    addresses = await lookup(hostname);
  } catch (err) {
    throw unresolved(hostname, err);
  }

  if (addresses.length === 0) {
    throw unresolved(hostname, undefined);
  }

  return addresses;
}

function unresolved(hostname: string, cause: unknown): AppError {
  return new AppError('IMPORT_FAILED', {
    message: `The host ${hostname} could not be resolved.`,
    cause,
    details: { host: hostname, code: (cause as { code?: unknown } | undefined)?.code },
  });
}
