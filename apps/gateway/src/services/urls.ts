import type { Urls } from '@convertd/api';
import { pathSigner } from '@convertd/storage';

import type { Deps } from '../deps';

/** The stored result of a waiting `import/upload`: signed each time it is shown (see `Urls`). */
export function uploadResult(taskId: string) {
  return { form: { url: `/upload/${taskId}`, parameters: {} } };
}

/** Signs one of our paths for `SIGNED_URL_TTL` from now (see `pathSigner`). */
export function signer(deps: Pick<Deps, 'urlSecret' | 'config'>): (path: string) => string {
  return pathSigner(deps.urlSecret, deps.config.signedUrlTtlSec);
}

export function urlsFor(deps: Pick<Deps, 'urlSecret' | 'config'>, origin: string): Urls {
  return { origin, sign: signer(deps) };
}
