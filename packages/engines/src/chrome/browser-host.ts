// One Chromium per engine, started on first use and shared by its tasks (each in its own browser
// context); started again after it died, and after a number of tasks to bound its memory.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

import { AppError } from '@convertd/errors';

import type { EngineLogger } from '../logger';

export interface BrowserHostOptions {
  binary: string;
  /** The engine's own directory: profiles and the browser's HOME go under it. */
  root: string;
  /** Tasks one browser serves before it is replaced once idle. */
  restartAfter: number;
}

// Playwright's own defaults are switched off so that the profile lives under our directory;
// these are the flags of TOOLCHAIN.md §4 plus the ones a headless, unattended browser needs.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-breakpad',
  '--disable-dev-shm-usage',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  '--disable-hang-monitor',
  '--disable-prompt-on-repost',
  '--disable-popup-blocking',
  '--metrics-recording-only',
  '--password-store=basic',
  '--use-mock-keychain',
  '--hide-scrollbars',
  '--mute-audio',
  // Colours as written in the page, not converted through a display profile.
  '--force-color-profile=srgb',
  // Interception breaks preflighted cross-origin redirects otherwise (Chromium 155+); the other
  // features phone home or keep the browser from painting a page that is still loading.
  '--disable-features=AvoidCorsURLLoaderRestartOnRedirect,OptimizationHints,MediaRouter,PaintHolding,HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,NetworkTimeServiceQuerying',
  '--remote-debugging-pipe',
  '--no-startup-window',
];

export class BrowserHost {
  private browser: Browser | undefined;
  private launching: Promise<Browser> | undefined;
  private served = 0;
  private active = 0;
  private closed = false;

  constructor(private readonly options: BrowserHostOptions) {}

  /** A connected browser for one task; pair with `release`. */
  async acquire(timeoutMs: number, logger?: EngineLogger): Promise<Browser> {
    if (this.closed) {
      throw new AppError('ENGINE_UNAVAILABLE', { message: 'The Chrome engine is shut down.' });
    }

    let browser = this.browser?.isConnected() === true ? this.browser : undefined;
    if (browser === undefined) {
      // Tasks that arrive while the browser starts wait for the same start.
      this.launching ??= this.launch(timeoutMs, logger);
      browser = await this.launching;
    }

    this.active += 1;
    this.served += 1;

    return browser;
  }

  /** Starts the browser ahead of the first task. */
  async warm(timeoutMs: number, logger?: EngineLogger): Promise<void> {
    if (this.closed || this.browser?.isConnected() === true) {
      return;
    }
    this.launching ??= this.launch(timeoutMs, logger);
    await this.launching;
  }

  /** Whether a browser runs, and how many tasks it serves and has served. */
  state(): { running: boolean; active: number; served: number } {
    return {
      running: this.browser?.isConnected() === true,
      active: this.active,
      served: this.served,
    };
  }

  release(): void {
    this.active -= 1;
    if (this.active === 0 && this.served >= this.options.restartAfter) {
      void this.retire();
    }
  }

  /**
   * Ends `which` (default: the current browser), e.g. after a page would not let go of its
   * context. A browser another task already replaced is closed without touching its successor.
   */
  async retire(which?: Browser): Promise<void> {
    const browser = which ?? this.browser;
    if (browser === undefined) {
      return;
    }

    if (this.browser === browser) {
      this.browser = undefined;
      this.served = 0;
    }
    await browser.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.launching?.catch(() => undefined);
    await this.retire();
    await removeDir(this.options.root);
  }

  private async launch(timeoutMs: number, logger?: EngineLogger): Promise<Browser> {
    const dirs: string[] = [];
    try {
      await mkdir(this.options.root, { recursive: true });
      const profile = await mkdtemp(join(this.options.root, 'profile-'));
      dirs.push(profile);
      // Chromium puts its singleton socket in TMPDIR, and a socket path may not pass 107 bytes:
      // the engine's own directory can be deeper than that, the system's temp dir is not.
      const tmp = await mkdtemp(join(tmpdir(), 'convertd-chrome-'));
      dirs.push(tmp);
      const started = Date.now();
      const browser = await chromium.launch({
        executablePath: this.options.binary,
        ignoreDefaultArgs: true,
        args: [...FLAGS, `--user-data-dir=${profile}`],
        env: browserEnv(this.options.root, tmp),
        timeout: Math.max(1, timeoutMs),
        // The worker shuts engines down itself; Playwright must not act on its signals.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
      this.browser = browser;
      browser.once('disconnected', () => {
        if (this.browser === browser) {
          this.browser = undefined;
        }
        void Promise.all(dirs.map(removeDir));
      });
      logger?.info(
        { engine: 'chrome', version: browser.version(), durationMs: Date.now() - started },
        'browser started',
      );

      return browser;
    } catch (err) {
      await Promise.all(dirs.map(removeDir));
      throw new AppError('ENGINE_FAILED', {
        message: 'Chrome could not be started.',
        cause: err,
        details: { engine: 'chrome', reason: 'launch failed' },
      });
    } finally {
      this.launching = undefined;
    }
  }
}

// Pages are untrusted: the browser gets no secrets from the worker's environment.
function browserEnv(home: string, tmp: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    TMPDIR: tmp,
    LANG: process.env['LANG'] ?? 'C.UTF-8',
  };
  for (const name of ['LC_ALL', 'TZ', 'FONTCONFIG_FILE']) {
    const value = process.env[name];
    if (value !== undefined && value !== '') {
      env[name] = value;
    }
  }

  return env;
}

// Chromium's helpers may still be writing for a moment after the browser process is gone.
async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 }).catch(
    () => undefined,
  );
}
