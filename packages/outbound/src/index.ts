// The one outbound policy of the server: every URL it fetches goes through here.
export { checkAddress } from './check-address';
export type { AddressVerdict } from './check-address';
export { openUrl } from './open-url';
export { resolveHost } from './resolve-host';
export type { ResolveOptions } from './resolve-host';
export type { HostLookup, OpenUrlOptions, OpenUrlResult, ResolvedAddress } from './types';
export { postUrl } from './post';
export type { PostOptions } from './post';
export { policyAgent, policyLookup } from './policy-agent';
export type { PolicyAgentOptions } from './policy-agent';
