'use strict';
// Maps the fixed CloudConvert API hosts baked into the node SDK onto a convertd server.

const API = /^https:\/\/(?:[a-z0-9-]+\.)?api\.(?:sandbox\.)?cloudconvert\.com\/v2\//i;
const SYNC = /^https:\/\/(?:[a-z0-9-]+\.)?sync\.api\.(?:sandbox\.)?cloudconvert\.com\/v2\//i;

function trimSlash(url) {
  return String(url).replace(/\/+$/, '');
}

/**
 * Rewrites one URL. Sync-API calls go to `syncUrl` when given; otherwise to the main server's
 * `/wait` routes, which block the same way, so one URL is enough.
 * @param {string} url
 * @param {{ url: string, syncUrl?: string }} target
 * @returns {string}
 */
function rewriteUrl(url, target) {
  const main = trimSlash(target.url);
  if (SYNC.test(url)) {
    const rest = url.replace(SYNC, '');
    if (target.syncUrl) {
      return `${trimSlash(target.syncUrl)}/v2/${rest}`;
    }
    const [path, query] = rest.split('?');
    const waiting = /^(jobs|tasks)\/[^/]+$/.test(path) ? `${path}/wait` : path;
    return `${main}/v2/${waiting}${query === undefined ? '' : `?${query}`}`;
  }
  if (API.test(url)) {
    return `${main}/v2/${url.replace(API, '')}`;
  }
  return url;
}

module.exports = { rewriteUrl };
