'use strict';
// A subclass of the official SDK client that talks to convertd instead of cloudconvert.com.
//
//   const { ConvertdCloudConvert } = require('@convertd/cloudconvert-node');
//   const cc = new ConvertdCloudConvert(process.env.CONVERTD_API_KEY, { url: 'http://localhost:8080' });
//
// Everything else is the SDK's own API (jobs, tasks, users, upload, wait, subscribe*).

const sdk = require('cloudconvert');
const CloudConvert = sdk.default ?? sdk;
const { rewriteSocketUrl, rewriteUrl, sdkSocketIo } = require('./rewrite.cjs');

class ConvertdCloudConvert extends CloudConvert {
  /**
   * @param {string} apiKey a key created with `pnpm cli keys create`
   * @param {{ url?: string, syncUrl?: string, socketUrl?: string }} [options] defaults:
   *   CONVERTD_URL, CONVERTD_SYNC_URL, CONVERTD_SOCKET_URL (else socket.io on the main origin)
   */
  constructor(apiKey, options = {}) {
    super(apiKey, false);
    const url = options.url ?? process.env.CONVERTD_URL;
    if (!url) {
      throw new Error(
        'ConvertdCloudConvert needs options.url or CONVERTD_URL (e.g. http://localhost:8080)',
      );
    }
    this.convertd = {
      url,
      syncUrl: options.syncUrl ?? process.env.CONVERTD_SYNC_URL,
      socketUrl: options.socketUrl ?? process.env.CONVERTD_SOCKET_URL,
    };
  }

  subscribe(channel, event, callback) {
    if (!this.socket) {
      // The SDK would connect to socketio.cloudconvert.com; open the same kind of socket here.
      const url = rewriteSocketUrl('https://socketio.cloudconvert.com', this.convertd);
      this.socket = sdkSocketIo().io(url, { transports: ['websocket'] });
      this.subscribedChannels = new Map();
    }
    return super.subscribe(channel, event, callback);
  }

  callWithBase(baseURL, method, route, parameters, options) {
    // Absolute routes (upload forms) carry their own host and are left alone by `new URL`.
    const base = rewriteUrl(baseURL, this.convertd);
    if (base !== baseURL && this.convertd.syncUrl === undefined && /sync\.api\./.test(baseURL)) {
      // No sync origin given: block on the main origin's /wait route instead.
      return super.callWithBase(
        base,
        method,
        /^(jobs|tasks)\/[^/?]+$/.test(route) ? `${route}/wait` : route,
        parameters,
        options,
      );
    }
    return super.callWithBase(base, method, route, parameters, options);
  }
}

module.exports = { ConvertdCloudConvert, rewriteUrl, rewriteSocketUrl };
