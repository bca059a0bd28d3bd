// Turns a loaded page into the output file: Chrome's print to PDF, or a screenshot taken over the
// DevTools protocol (which encodes PNG, JPEG and WebP alike).
import { writeFile } from 'node:fs/promises';

import type { BrowserContext, Page } from 'playwright-core';

import { AppError } from '@convertd/errors';

import type { PdfSettings, ScreenshotSettings } from './options';

/** Tallest full-page screenshot; longer pages are cut (memory grows with the pixel count). */
export const MAX_SCREENSHOT_HEIGHT = 16_384;

const HEADER_STYLE =
  'font-size:9px;width:100%;margin:0 1cm;display:flex;justify-content:space-between';
const DEFAULT_HEADER = `<div style="${HEADER_STYLE}"><span class="date"></span><span class="title"></span></div>`;
const PAGE_NUMBERS =
  '<span><span class="pageNumber"></span>/<span class="totalPages"></span></span>';

/**
 * Prints the page to `target`. The default footer names the URL only for websites: for an
 * uploaded page it would be a path on this server.
 */
export async function printPdf(
  page: Page,
  target: string,
  settings: PdfSettings,
  website: boolean,
): Promise<void> {
  const footer = website
    ? `<span class="url"></span>${PAGE_NUMBERS}`
    : `<span></span>${PAGE_NUMBERS}`;
  try {
    await page.pdf({
      path: target,
      ...settings.size,
      landscape: settings.landscape,
      scale: settings.scale,
      printBackground: settings.printBackground,
      margin: settings.margin,
      ...(settings.pageRanges === undefined ? {} : { pageRanges: settings.pageRanges }),
      displayHeaderFooter: settings.displayHeaderFooter,
      ...(settings.displayHeaderFooter
        ? {
            headerTemplate: settings.headerTemplate ?? DEFAULT_HEADER,
            footerTemplate:
              settings.footerTemplate ?? `<div style="${HEADER_STYLE}">${footer}</div>`,
          }
        : {}),
    });
  } catch (err) {
    // Chrome refuses a range past the last page with this message; any other error is ours.
    if (settings.pageRanges !== undefined && /page range/i.test(String(err))) {
      throw new AppError('INVALID_DATA', {
        errors: { pages: ['The pages select no page of the document.'] },
        cause: err,
      });
    }

    throw err;
  }
}

/** Writes a screenshot; returns a note for the task when the page had to be cut. */
export async function screenshot(
  context: BrowserContext,
  page: Page,
  target: string,
  format: 'png' | 'jpg' | 'webp',
  settings: ScreenshotSettings,
): Promise<string | undefined> {
  const cdp = await context.newCDPSession(page);
  try {
    let height = settings.height;
    let note: string | undefined;
    if (settings.fullPage) {
      const metrics = await cdp.send('Page.getLayoutMetrics');
      const content = Math.ceil(metrics.cssContentSize.height);
      height = Math.max(1, Math.min(content, MAX_SCREENSHOT_HEIGHT));
      if (content > MAX_SCREENSHOT_HEIGHT) {
        note = `The page is ${content} pixels high; the screenshot shows its first ${MAX_SCREENSHOT_HEIGHT}.`;
      }
    }

    const shot = await cdp.send('Page.captureScreenshot', {
      format: format === 'jpg' ? 'jpeg' : format,
      ...(settings.quality === undefined ? {} : { quality: settings.quality }),
      clip: { x: 0, y: 0, width: settings.width, height, scale: 1 },
      captureBeyondViewport: settings.fullPage,
      fromSurface: true,
    });
    await writeFile(target, Buffer.from(shot.data, 'base64'));

    return note;
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}
