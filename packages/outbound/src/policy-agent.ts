// HTTP agents for clients we do not drive ourselves (cloud SDKs): every connection they open
// resolves its host through the outbound policy, so a name cannot be re-pointed at a private
// address between our check and their connect.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

import { resolveHost } from './resolve-host';

export interface PolicyAgentOptions {
  allowPrivate: boolean;
  /** Connections are closed after each request unless set (the policy is applied per connect). */
  keepAlive?: boolean;
}

/** An agent for `https:` (or `http:` with `secure: false`) whose lookups obey the policy. */
export function policyAgent(secure: boolean, options: PolicyAgentOptions): http.Agent {
  const settings = { lookup: policyLookup(options.allowPrivate), keepAlive: options.keepAlive };

  return secure ? new https.Agent(settings) : new http.Agent(settings);
}

/**
 * A lookup for `net.connect`: the policy's answer or its refusal. Node does not call it for an IP
 * literal, so callers check literal hosts with `resolveHost` before they connect.
 */
export function policyLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolveHost(hostname, { allowPrivate }).then(
      (addresses) => {
        const family =
          options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const wanted =
          family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
        const first = wanted[0];
        if (first === undefined) {
          callback(
            Object.assign(new Error('No address of this family.'), { code: 'ENOTFOUND' }),
            '',
          );
        } else if (options.all === true) {
          callback(null, wanted);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (err: unknown) => callback(err as NodeJS.ErrnoException, ''),
    );
  };
}
