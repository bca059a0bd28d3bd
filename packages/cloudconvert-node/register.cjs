'use strict';
// Preload for code you cannot edit (the SDK's own test suite, tools built on the SDK):
//
//   CONVERTD_URL=http://localhost:8080 node --require @convertd/cloudconvert-node/register app.js
//
// It wraps the global fetch that the node SDK 3.x uses, so every call to the cloudconvert.com
// API and sync hosts goes to convertd, and the `io` of the SDK's socket.io-client (looked up by
// the SDK at each call), so its event subscriptions go to convertd's socket.io endpoint
// (CONVERTD_SOCKET_URL, else CONVERTD_URL).

const { rewriteSocketUrl, rewriteUrl, sdkSocketIo } = require('./rewrite.cjs');

const target = {
  url: process.env.CONVERTD_URL,
  syncUrl: process.env.CONVERTD_SYNC_URL,
  socketUrl: process.env.CONVERTD_SOCKET_URL,
};
if (!target.url) {
  throw new Error(
    '@convertd/cloudconvert-node/register needs CONVERTD_URL (e.g. http://localhost:8080)',
  );
}

const originalFetch = globalThis.fetch;
globalThis.fetch = function convertdFetch(input, init) {
  if (typeof input === 'string' || input instanceof URL) {
    return originalFetch(rewriteUrl(String(input), target), init);
  }
  if (input && typeof input.url === 'string') {
    const url = rewriteUrl(input.url, target);
    return originalFetch(url === input.url ? input : new Request(url, input), init);
  }
  return originalFetch(input, init);
};

let socketIo = null;
try {
  socketIo = sdkSocketIo();
} catch {
  // No SDK installed beside this program: only fetch is redirected.
}
if (socketIo) {
  const originalIo = socketIo.io;
  socketIo.io = socketIo.connect = function convertdIo(uri, options) {
    return originalIo(typeof uri === 'string' ? rewriteSocketUrl(uri, target) : uri, options);
  };
}
