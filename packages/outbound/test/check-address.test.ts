import { describe, expect, it } from 'vitest';

import { checkAddress } from '../src/check-address';

const ALLOWED = [
  '8.8.8.8',
  '1.1.1.1',
  '2606:4700:4700::1111',
  '[2606:4700:4700::1111]',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
];

const REFUSED: [string, string][] = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['10.0.0.1', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'linkLocal'],
  ['169.254.0.1', 'linkLocal'],
  ['fe80::1', 'linkLocal'],
  ['fe80::1%eth0', 'linkLocal'],
  ['febf:ffff::1', 'linkLocal'],
  ['100.64.0.1', 'carrierGradeNat'],
  ['100.127.255.254', 'carrierGradeNat'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['::', 'unspecified'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['ff02::1', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.1', 'reserved'],
  ['198.51.100.7', 'reserved'],
  ['203.0.113.9', 'reserved'],
  ['198.18.0.1', 'reserved'],
  ['198.19.255.255', 'reserved'],
  ['2001:db8::1', 'reserved'],
  ['2001:2::1', 'benchmarking'],
  ['fc00::1', 'uniqueLocal'],
  ['fd12:3456::1', 'uniqueLocal'],
  ['fec0::1', 'deprecatedSiteLocal'],
  ['100::1', 'discard'],
  ['::ffff:127.0.0.1', 'ipv4Mapped:loopback'],
  ['::ffff:7f00:1', 'ipv4Mapped:loopback'],
  ['[::ffff:127.0.0.1]', 'ipv4Mapped:loopback'],
  ['::ffff:10.0.0.1', 'ipv4Mapped:private'],
  ['::ffff:169.254.169.254', 'ipv4Mapped:linkLocal'],
  ['::ffff:0.0.0.0', 'ipv4Mapped:unspecified'],
  ['::ffff:0:7f00:1', 'rfc6145:loopback'],
  ['::127.0.0.1', 'ipv4Compatible'],
  ['::7f00:1', 'ipv4Compatible'],
  ['::8.8.8.8', 'ipv4Compatible'],
  ['64:ff9b::7f00:1', 'nat64:loopback'],
  ['64:ff9b::a9fe:a9fe', 'nat64:linkLocal'],
  ['64:ff9b::c0a8:101', 'nat64:private'],
  ['64:ff9b:1::808:808', 'nat64LocalUse'],
  ['2002:7f00:1::1', '6to4:loopback'],
  ['2002:c0a8:101::1', '6to4:private'],
  ['2002:a9fe:a9fe::', '6to4:linkLocal'],
  ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
  ['3fff::1', 'reserved'],
  ['5f00::1', 'segmentRouting'],
  ['4000::1', 'notGlobalUnicast'],
  ['localhost', 'invalid'],
  ['0177.0.0.1', 'invalid'],
  ['0x7f.1', 'invalid'],
  ['2130706433', 'invalid'],
  ['', 'invalid'],
];

describe(checkAddress.name, () => {
  it.each(ALLOWED)('allows the public unicast address %s', (ip) => {
    expect(checkAddress(ip)).toEqual({ allowed: true });
  });

  it.each(REFUSED)('refuses %s as %s', (ip, reason) => {
    expect(checkAddress(ip)).toEqual({ allowed: false, reason });
  });
});
