// The address half of the outbound policy: which IP addresses the server may connect to.
import { isIP } from 'node:net';

import ipaddr from 'ipaddr.js';

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');

/** The verdict on one address; `reason` names the refused range, for logs only. */
export interface AddressVerdict {
  allowed: boolean;
  reason?: string;
}

/**
 * Allows only public unicast addresses: refuses loopback, private, link-local, CGNAT, multicast,
 * reserved and documentation ranges, and IPv6 forms that embed such an IPv4 address.
 */
export function checkAddress(ip: string): AddressVerdict {
  const text = stripZone(ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip);
  // Only canonical forms: `0177.0.0.1` and friends must be normalised (by the URL parser) first.
  const family = isIP(text);
  if (family === 0) {
    return refuse('invalid');
  }

  if (family === 4) {
    return checkV4(ipaddr.IPv4.parse(text));
  }

  const hex = hexForm(text);

  return hex === undefined ? refuse('invalid') : checkV6(ipaddr.IPv6.parse(hex));
}

function checkV4(address: ipaddr.IPv4): AddressVerdict {
  const range = address.range();

  return range === 'unicast' ? { allowed: true } : refuse(range);
}

function checkV6(address: ipaddr.IPv6): AddressVerdict {
  const range: string = address.range();
  const parts = address.parts;
  switch (range) {
    case 'ipv4Mapped':
    case 'rfc6145':
      return nested(range, embeddedV4(parts[6], parts[7]));
    case 'rfc6052':
      // 64:ff9b:1::/48 is for local use only; the well-known /96 prefix reaches the embedded IPv4.
      return address.match(NAT64_WELL_KNOWN)
        ? nested('nat64', embeddedV4(parts[6], parts[7]))
        : refuse('nat64LocalUse');
    case '6to4':
      return nested(range, embeddedV4(parts[1], parts[2]));
    case 'unicast':
      break;
    default:
      return refuse(range);
  }

  if (!address.match(GLOBAL_UNICAST_V6)) {
    return refuse(address.match(IPV4_COMPATIBLE) ? 'ipv4Compatible' : 'notGlobalUnicast');
  }

  return { allowed: true };
}

function embeddedV4(high: number | undefined, low: number | undefined): ipaddr.IPv4 {
  const h = high ?? 0;
  const l = low ?? 0;

  return new ipaddr.IPv4([h >> 8, h & 0xff, l >> 8, l & 0xff]);
}

function nested(range: string, inner: ipaddr.IPv4): AddressVerdict {
  const verdict = checkV4(inner);

  return verdict.allowed ? verdict : refuse(`${range}:${verdict.reason ?? 'refused'}`);
}

function refuse(reason: string): AddressVerdict {
  return { allowed: false, reason };
}

// ipaddr.js reads a dotted tail (`::127.0.0.1`) as IPv4-mapped; the URL parser keeps the real
// bits (`::7f00:1`, IPv4-compatible) and is the normaliser every URL host goes through anyway.
function hexForm(v6: string): string | undefined {
  try {
    return new URL(`http://[${v6}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

function stripZone(text: string): string {
  const percent = text.indexOf('%');

  return percent === -1 ? text : text.slice(0, percent);
}
