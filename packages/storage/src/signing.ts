import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signs a path of ours (upload form or download URL) with an expiry, so that it works without
 * Authorization, as every SDK expects. The host is not signed: the same URL works on every origin.
 */
export function signPath(
  secret: string,
  pathname: string,
  expiresAt: number,
): { expires: string; signature: string } {
  const expires = String(Math.floor(expiresAt));

  return { expires, signature: mac(secret, pathname, expires) };
}

export function verifyPath(
  secret: string,
  pathname: string,
  expires: string | undefined,
  signature: string | undefined,
  now = Date.now() / 1000,
): boolean {
  if (!expires || !signature || !/^\d+$/.test(expires) || Number(expires) < now) {
    return false;
  }

  const expected = Buffer.from(mac(secret, pathname, expires));
  const given = Buffer.from(signature);

  return expected.length === given.length && timingSafeEqual(expected, given);
}

function mac(secret: string, pathname: string, expires: string): string {
  return createHmac('sha256', secret).update(`${pathname}\n${expires}`).digest('hex');
}

/**
 * Signs our paths for `ttlSec` from the moment each is signed: `path?expires=…&signature=…`.
 * Download paths end in the file name, which is left out of the signature (clients re-encode
 * names in different ways).
 */
export function pathSigner(secret: string, ttlSec: number): (path: string) => string {
  return (path) => {
    const [pathname = path] = path.split('?');
    const signed = pathname.startsWith('/download/')
      ? pathname.slice(0, pathname.lastIndexOf('/'))
      : pathname;
    const { expires, signature } = signPath(secret, signed, Date.now() / 1000 + ttlSec);

    return `${pathname}?expires=${expires}&signature=${signature}`;
  };
}
