import type { Urls } from '@convertd/api';
import { signPath } from '@convertd/storage';

import type { Deps } from '../deps';

/** The stored result of a waiting `import/upload`: signed each time it is shown (see `Urls`). */
export function uploadResult(taskId: string) {
  return { form: { url: `/upload/${taskId}`, parameters: {} } };
}

/**
 * Signs one of our paths for `SIGNED_URL_TTL` from now. Download paths end in the file name,
 * which is left out of the signature (clients re-encode names in different ways).
 */
export function signer(deps: Pick<Deps, 'urlSecret' | 'config'>): (path: string) => string {
  return (path) => {
    const [pathname = path] = path.split('?');
    const signed = pathname.startsWith('/download/')
      ? pathname.slice(0, pathname.lastIndexOf('/'))
      : pathname;
    const { expires, signature } = signPath(
      deps.urlSecret,
      signed,
      Date.now() / 1000 + deps.config.signedUrlTtlSec,
    );

    return `${pathname}?expires=${expires}&signature=${signature}`;
  };
}

export function urlsFor(deps: Pick<Deps, 'urlSecret' | 'config'>, origin: string): Urls {
  return { origin, sign: signer(deps) };
}
