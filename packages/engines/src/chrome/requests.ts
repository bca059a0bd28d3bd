// What a page may load, decided per request inside the browser: files only from the page's own
// directory, http(s) through the egress proxy (which applies the address policy), nothing else.
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { BrowserContext, Request, Route } from 'playwright-core';

import type { EngineLogger } from '../logger';

const POLL_MS = 50;

export interface RequestPolicy {
  /** The staged directory of an uploaded page; null when no file may be read. */
  fileRoot: string | null;
  /** Extra headers for requests to this origin only (capture-website `headers`). */
  headers?: { origin: string; values: Record<string, string> };
  logger?: EngineLogger | undefined;
}

/** Counts requests in flight, for the networkidle waits (Puppeteer's networkidle0 and 2). */
export class InFlight {
  private count = 0;
  /** Since when at most `max` requests have been in flight; undefined while more are. */
  private quietSince: number | undefined = Date.now();

  constructor(private readonly max: number) {}

  attach(context: BrowserContext): void {
    context.on('request', () => this.change(1));
    context.on('requestfinished', () => this.change(-1));
    context.on('requestfailed', () => this.change(-1));
  }

  /** Resolves once at most `max` requests have been in flight for `quietMs`, or on abort. */
  async idle(quietMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.quietSince !== undefined && Date.now() - this.quietSince >= quietMs) {
        return;
      }

      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private change(delta: number): void {
    this.count = Math.max(0, this.count + delta);
    if (this.count > this.max) {
      this.quietSince = undefined;
    } else {
      this.quietSince ??= Date.now();
    }
  }
}

export async function installRequestPolicy(
  context: BrowserContext,
  policy: RequestPolicy,
): Promise<void> {
  const root = policy.fileRoot === null ? null : await realpath(policy.fileRoot);
  await context.route('**/*', async (route: Route, request: Request) => {
    try {
      await decide(route, request, root, policy);
    } catch {
      // The context closed while the request waited (task ended or stopped): nobody listens.
    }
  });
}

async function decide(
  route: Route,
  request: Request,
  root: string | null,
  policy: RequestPolicy,
): Promise<void> {
  let url: URL;
  try {
    url = new URL(request.url());
  } catch {
    await route.abort('blockedbyclient');

    return;
  }

  switch (url.protocol) {
    case 'http:':
    case 'https:': {
      const extra = policy.headers;
      if (extra !== undefined && url.origin === extra.origin) {
        await route.continue({ headers: { ...request.headers(), ...extra.values } });
      } else {
        await route.continue();
      }

      return;
    }
    case 'file:':
      if (root !== null && (await within(root, url))) {
        await route.continue();

        return;
      }
      break;
    default:
      break;
  }

  policy.logger?.debug(
    { engine: 'chrome', scheme: url.protocol, resourceType: request.resourceType() },
    'request blocked',
  );
  await route.abort('accessdenied');
}

/** True when the file URL names a file under `root`, after symbolic links are resolved. */
async function within(root: string, url: URL): Promise<boolean> {
  if (url.host !== '' && url.host !== 'localhost') {
    return false;
  }

  let path: string;
  try {
    path = await realpath(fileURLToPath(url));
  } catch {
    // Missing files are fine to ask for (the browser shows a broken image); only existing ones
    // outside the root are a leak, and a missing one cannot be read.
    path = fileURLToPath(url);
  }

  const rel = relative(root, path);

  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
