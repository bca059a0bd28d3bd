// Chrome adapter: uploaded HTML pages (alone, with their files, or zipped) and websites to PDF,
// PNG, JPEG and WebP, in one shared Chromium driven by Playwright, one browser context per task.
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import type {
  Browser,
  BrowserContext,
  BrowserContextOptions,
  Page,
  Response,
} from 'playwright-core';
import { errors } from 'playwright-core';

import { CHROME } from '@convertd/api';
import { AppError, isAppError } from '@convertd/errors';
import { resolveHost } from '@convertd/outbound';

import type { Engine, EngineJob, EngineResult } from '../engine';
import type { EngineLogger } from '../logger';
import { runProcess } from '../runner';
import { BrowserHost } from './browser-host';
import { EgressProxy } from './egress-proxy';
import { navigationFailure, TaskLimit } from './failures';
import { loadSettings, pdfSettings, screenshotSettings } from './options';
import type { LoadSettings } from './options';
import { printPdf, screenshot } from './render';
import { InFlight, installRequestPolicy } from './requests';
import type { RequestPolicy } from './requests';
import { DEFAULT_ZIP_LIMITS, stageHtml, stageZip } from './staging';
import type { ZipLimits } from './staging';
import { fileStem, requestHeaders, websiteUrl } from './website';

const DETECT_DEADLINE_MS = 30_000;
/** A context that does not close in this time is taken for hung, and the browser is replaced. */
const CLOSE_GRACE_MS = 5000;
/** Quiet time of the networkidle waits, as in Puppeteer. */
const NETWORK_QUIET_MS = 500;
/** A `wait_for_element` that matches nothing by then never will, as far as the user cares. */
const ELEMENT_WAIT_MS = 30_000;
/** Time the browser may take to start ahead of the first task. */
const WARM_TIMEOUT_MS = 30_000;
const OUTPUTS = new Set(['pdf', 'png', 'jpg', 'webp']);

type ImageFormat = 'png' | 'jpg' | 'webp';
const PAGE_VIEWPORT = { width: 1280, height: 800 };

export interface ChromeEngineOptions {
  /** The engine's own directory (browser profile, staged pages); created when needed. */
  root: string;
  /** Operator setting: pages may reach loopback and private addresses. */
  allowPrivateUrls: boolean;
  /** The Chromium executable; default Debian's /usr/bin/chromium. */
  binary?: string;
  /** Tasks one browser serves before it is replaced; default 100. */
  restartAfter?: number;
  zipLimits?: ZipLimits;
  /** How long `wait_for_element` waits for its selector to match; default 30 s. */
  elementWaitMs?: number;
}

/** What a task loads: an uploaded page from its staged directory, or a website. */
interface Source {
  url: string;
  /** Directory the page may read files from; null for websites. */
  fileRoot: string | null;
  website: URL | null;
}

export class ChromeEngine implements Engine {
  readonly name = 'chrome';
  readonly spec = CHROME;
  private readonly binary: string;
  private readonly host: BrowserHost;
  private version: string | undefined;

  constructor(private readonly options: ChromeEngineOptions) {
    this.binary = options.binary ?? '/usr/bin/chromium';
    this.host = new BrowserHost({
      binary: this.binary,
      root: join(options.root, 'browser'),
      restartAfter: options.restartAfter ?? 100,
    });
  }

  async detect(): Promise<{ version: string } | null> {
    if (this.version !== undefined) {
      return { version: this.version };
    }

    try {
      // "Chromium 156.0.8078.114 built on Debian GNU/Linux 12 (bookworm)"; the Debian wrapper
      // also prints shell noise on stderr, which is ignored.
      const { stdout } = await runProcess(this.binary, ['--version'], {
        cwd: tmpdir(),
        deadlineMs: DETECT_DEADLINE_MS,
      });
      this.version = /(?:Chromium|Chrome)\s+(\d+(?:\.\d+)+)/.exec(stdout)?.[1];
    } catch {
      return null;
    }

    return this.version === undefined ? null : { version: this.version };
  }

  async run(job: EngineJob): Promise<EngineResult> {
    const format = job.outputFormat ?? '';
    if (
      !OUTPUTS.has(format) ||
      (job.operation !== 'convert' && job.operation !== 'capture-website')
    ) {
      throw new AppError('INVALID_CONVERSION_TYPE', {
        message: `Chrome does not run ${job.operation} to ${format || 'no format'}.`,
      });
    }

    const limit = new TaskLimit(Date.now() + job.deadlineMs, job.signal);
    const logger = job.logger;
    let proxy: EgressProxy | undefined;
    let context: BrowserContext | undefined;
    let browser: Browser | undefined;
    try {
      const source = await limit.race(this.prepare(job, limit.signal));
      proxy = await EgressProxy.start({ allowPrivate: this.options.allowPrivateUrls, logger });
      const shot = format === 'pdf' ? undefined : screenshotSettings(job.options, format);
      ({ browser, context } = await this.newContext(limit, logger, {
        proxy: { server: proxy.url },
        viewport: shot === undefined ? PAGE_VIEWPORT : { width: shot.width, height: shot.height },
        acceptDownloads: false,
        serviceWorkers: 'block',
      }));
      const load = loadSettings(job.options);
      const inFlight = new InFlight(load.waitUntil === 'networkidle2' ? 2 : 0);
      inFlight.attach(context);
      await installRequestPolicy(context, this.requestPolicy(source, job.options, logger));
      const page = await limit.race(context.newPage());
      page.on('crash', () =>
        limit.stop(new AppError('ENGINE_CRASHED', { message: 'The page crashed Chrome.' })),
      );
      const incidents = proxy.incidents;
      const response = await limit
        .race(this.open(page, source, load, inFlight, limit))
        .catch((err: unknown) => {
          throw isAppError(err)
            ? err
            : navigationFailure(err, source.website?.host ?? 'file', incidents);
        });
      limit.phase = 'The page could not be rendered before the deadline.';
      const name = source.website === null ? 'page' : fileStem(source.website);
      const target = join(job.outputDir, `${name}.${format}`);
      let note: string | undefined;
      if (shot === undefined) {
        await limit.race(printPdf(page, target, pdfSettings(job.options), source.website !== null));
      } else {
        note = await limit.race(screenshot(context, page, target, format as ImageFormat, shot));
      }

      const status = response?.status() ?? 200;
      const message = [status >= 400 ? `The page answered HTTP ${status}.` : undefined, note]
        .filter((m) => m !== undefined)
        .join(' ');
      logger?.debug({ engine: this.name, format, status }, 'page rendered');

      return message === '' ? { files: [target] } : { files: [target], message };
    } catch (err) {
      throw this.failure(err, limit, browser);
    } finally {
      limit.dispose();
      await this.closeContext(context, browser, logger);
      if (browser !== undefined) {
        this.host.release();
      }
      await proxy?.close();
    }
  }

  async warm(logger?: EngineLogger): Promise<void> {
    await this.host.warm(WARM_TIMEOUT_MS, logger);
  }

  state(): Record<string, unknown> {
    return this.host.state();
  }

  async close(): Promise<void> {
    await this.host.close();
  }

  /**
   * A fresh context in the shared browser. A browser that died since its last task is noticed
   * here at the latest: it is replaced once, so the task does not fail for it.
   */
  private async newContext(
    limit: TaskLimit,
    logger: EngineLogger | undefined,
    options: BrowserContextOptions,
  ): Promise<{ browser: Browser; context: BrowserContext }> {
    limit.phase = 'Chrome did not start before the deadline.';
    for (let attempt = 1; ; attempt += 1) {
      const acquiring = this.host.acquire(limit.remainingMs, logger);
      const browser = await limit.race(acquiring).catch((err: unknown) => {
        // Stopped while the browser started: its lease must still be given back.
        acquiring.then(
          () => this.host.release(),
          () => undefined,
        );
        throw err;
      });
      const creating = browser.newContext(options);
      try {
        return { browser, context: await limit.race(creating) };
      } catch (err) {
        // A context that arrives after the task stopped is closed as soon as it exists.
        creating.then(
          (late) => late.close(),
          () => undefined,
        );
        this.host.release();
        if (attempt > 1 || limit.reason !== undefined) {
          throw err;
        }

        logger?.warn({ engine: this.name }, 'browser unusable; starting a new one');
        await this.host.retire(browser);
      }
    }
  }

  /** Stages an uploaded page, or checks a website's URL against the outbound policy. */
  private async prepare(job: EngineJob, signal: AbortSignal): Promise<Source> {
    if (job.operation === 'capture-website') {
      const url = websiteUrl(job.options.url);
      await resolveHost(url.hostname.replace(/^\[(.*)\]$/, '$1'), {
        allowPrivate: this.options.allowPrivateUrls,
      });

      return { url: url.href, fileRoot: null, website: url };
    }

    const [input] = job.inputs;
    if (input === undefined) {
      throw new AppError('NO_INPUT_FILES');
    }

    const dir = join(job.workDir, 'page');
    await mkdir(dir, { recursive: true });
    const page =
      input.format === 'zip'
        ? await stageZip(input, dir, this.options.zipLimits ?? DEFAULT_ZIP_LIMITS, signal)
        : await stageHtml(input, job.siblings, dir);

    return { url: pathToFileURL(page).href, fileRoot: dir, website: null };
  }

  private requestPolicy(
    source: Source,
    options: Record<string, unknown>,
    logger: EngineLogger | undefined,
  ): RequestPolicy {
    const values = source.website === null ? {} : requestHeaders(options.headers);
    const origin = source.website?.origin;

    return {
      fileRoot: source.fileRoot,
      ...(origin !== undefined && Object.keys(values).length > 0
        ? { headers: { origin, values } }
        : {}),
      logger,
    };
  }

  private async open(
    page: Page,
    source: Source,
    load: LoadSettings,
    inFlight: InFlight,
    limit: TaskLimit,
  ): Promise<Response | null> {
    if (load.media !== undefined) {
      await page.emulateMedia({ media: load.media });
    }

    limit.phase = 'The page did not finish loading before the deadline.';
    const wait = load.waitUntil;
    const idle = wait === 'networkidle0' || wait === 'networkidle2';
    const response = await page.goto(source.url, {
      waitUntil: wait === 'networkidle0' || wait === 'networkidle2' ? 'load' : wait,
      timeout: 0,
    });
    if (idle) {
      await inFlight.idle(NETWORK_QUIET_MS, limit.signal);
    }

    if (load.waitForElement !== undefined) {
      await this.waitForElement(page, load.waitForElement, limit);
    }

    if (load.waitTimeMs > 0) {
      limit.phase = 'The wait time ran past the deadline.';
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(load.waitTimeMs, limit.remainingMs)),
      );
    }

    return response;
  }

  /**
   * Continues once the selector matches an element in the DOM, empty or hidden ones included
   * (Playwright's `visible` needs a box, which an empty div does not have), and ends a wait that
   * never matches after its own bound instead of at the task's deadline.
   */
  private async waitForElement(page: Page, selector: string, limit: TaskLimit): Promise<void> {
    limit.phase = `The element "${selector}" did not appear before the deadline.`;
    const waitMs = this.options.elementWaitMs ?? ELEMENT_WAIT_MS;
    await page
      .waitForSelector(selector, { state: 'attached', timeout: Math.max(1, waitMs) })
      .catch((err: unknown) => {
        if (limit.signal.aborted) {
          throw err;
        }
        if (/while parsing|not a valid selector/i.test(String(err))) {
          throw new AppError('INVALID_DATA', {
            errors: { wait_for_element: ['The wait for element must be a valid CSS selector.'] },
            cause: err,
          });
        }
        if (err instanceof errors.TimeoutError) {
          throw new AppError('INVALID_DATA', {
            errors: {
              wait_for_element: [
                `No element matched "${selector}" within ${Math.round(waitMs / 1000)} s of the page loading.`,
              ],
            },
            cause: err,
          });
        }
        throw err;
      });
  }

  private failure(err: unknown, limit: TaskLimit, browser: Browser | undefined): AppError {
    const stopped = limit.reason;
    if (stopped !== undefined) {
      return stopped;
    }

    if (isAppError(err)) {
      return err;
    }

    if (browser !== undefined && !browser.isConnected()) {
      return new AppError('ENGINE_CRASHED', {
        message: 'Chrome stopped during the task.',
        cause: err,
      });
    }

    return new AppError('ENGINE_FAILED', { cause: err, details: { engine: this.name } });
  }

  private async closeContext(
    context: BrowserContext | undefined,
    browser: Browser | undefined,
    logger?: EngineLogger,
  ): Promise<void> {
    if (context === undefined) {
      return;
    }

    let timer: NodeJS.Timeout | undefined;
    const hung = await Promise.race([
      context.close().then(
        () => false,
        () => false,
      ),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), CLOSE_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (hung) {
      logger?.warn({ engine: this.name }, 'browser context did not close; replacing the browser');
      await this.host.retire(browser);
    }
  }
}
