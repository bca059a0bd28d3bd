import CloudConvert from 'cloudconvert';

export interface ConvertdTarget {
  /** Main API origin of convertd, e.g. http://localhost:8080 (default: CONVERTD_URL). */
  url?: string;
  /** Sync API origin (SYNC_PORT). Without it, waits use the main origin's /wait routes. */
  syncUrl?: string;
  /** Socket.io origin for `subscribe*` (default: CONVERTD_SOCKET_URL, else `url`). */
  socketUrl?: string;
}

/** The official SDK client, pointed at convertd. */
export class ConvertdCloudConvert extends CloudConvert {
  constructor(apiKey: string, options?: ConvertdTarget);
}

/** Maps a cloudconvert.com API or sync URL to the convertd origin; other URLs pass unchanged. */
export function rewriteUrl(url: string, target: { url: string; syncUrl?: string }): string;

/** Maps the cloudconvert.com socket.io host to convertd; other URLs pass unchanged. */
export function rewriteSocketUrl(url: string, target: { url: string; socketUrl?: string }): string;
