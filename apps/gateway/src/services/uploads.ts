import { signPath } from '@convertd/storage';

import type { Deps } from '../deps';

/**
 * The `result` of a waiting `import/upload`: a form that posts to us without Authorization. The
 * signature sits in the URL; `parameters` stays empty (every SDK sends whatever it holds).
 */
export function uploadResult(deps: Pick<Deps, 'urlSecret' | 'config'>, taskId: string) {
  const path = `/upload/${taskId}`;
  const { expires, signature } = signPath(deps.urlSecret, path, Date.now() / 1000 + deps.config.signedUrlTtlSec);

  return { form: { url: `${path}?expires=${expires}&signature=${signature}`, parameters: {} } };
}
