'use strict';
// Maps the fixed CloudConvert API and socket.io hosts baked into the node SDK onto convertd.

const path = require('node:path');

const API = /^https:\/\/(?:[a-z0-9-]+\.)?api\.(?:sandbox\.)?cloudconvert\.com\/v2\//i;
const SYNC = /^https:\/\/(?:[a-z0-9-]+\.)?sync\.api\.(?:sandbox\.)?cloudconvert\.com\/v2\//i;
const SOCKET = /^https:\/\/socketio\.(?:sandbox\.)?cloudconvert\.com(?=\/|$)/i;

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

/**
 * Maps the socket.io host of cloudconvert.com onto convertd: `socketUrl` when given, else the
 * main origin (convertd serves socket.io there, on the default path /socket.io/).
 * @param {string} url
 * @param {{ url: string, socketUrl?: string }} target
 * @returns {string}
 */
function rewriteSocketUrl(url, target) {
  return SOCKET.test(url) ? url.replace(SOCKET, trimSlash(target.socketUrl ?? target.url)) : url;
}

/**
 * The socket.io-client module the installed SDK itself loads (its own dependency).
 * @returns {{ io: Function, connect: Function }}
 */
function sdkSocketIo() {
  const sdk = require.resolve('cloudconvert', { paths: [process.cwd(), __dirname] });
  return require(require.resolve('socket.io-client', { paths: [path.dirname(sdk)] }));
}

module.exports = { rewriteUrl, rewriteSocketUrl, sdkSocketIo };
