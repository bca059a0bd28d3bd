// Test helpers for the Chrome engine: a local web server that records what it receives, and a
// look at PDF pixels.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Site {
  origin: string;
  /** Request headers of every request, by path, in arrival order. */
  seen: { path: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** Serves `pages` (path → HTML); paths under /never/ never answer. */
export async function serveSite(
  pages: Record<string, (req: http.IncomingMessage) => string>,
): Promise<Site> {
  const seen: Site['seen'] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    seen.push({ path, headers: req.headers });
    if (path.startsWith('/never/')) {
      return;
    }

    const page = pages[path];
    if (page === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');

      return;
    }

    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function pdfText(file: string): string {
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

export function pdfInfo(file: string): string {
  return execFileSync('pdfinfo', [file], { encoding: 'utf8' });
}

export function pdfPages(file: string): number {
  return Number(/Pages:\s+(\d+)/.exec(pdfInfo(file))?.[1]);
}

/** Pixels of the first page (rendered at 30 dpi) within `tolerance` of the colour `rgb`. */
export function pdfPixelsNear(file: string, rgb: [number, number, number], tolerance = 40): number {
  const ppm = execFileSync('pdftoppm', ['-r', '30', '-f', '1', '-l', '1', '-singlefile', file]);
  // P6 header: magic, width, height, max value, each followed by one whitespace byte.
  const header = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(ppm.subarray(0, 64).toString('latin1'));
  if (header === null) {
    throw new Error('pdftoppm wrote no PPM');
  }

  let count = 0;
  for (let i = header[0].length; i + 2 < ppm.length; i += 3) {
    const near =
      Math.abs((ppm[i] ?? 0) - rgb[0]) +
        Math.abs((ppm[i + 1] ?? 0) - rgb[1]) +
        Math.abs((ppm[i + 2] ?? 0) - rgb[2]) <=
      tolerance;
    count += near ? 1 : 0;
  }

  return count;
}

/** Format, width and height of an image file, as ImageMagick reads them. */
export function imageInfo(file: string): { format: string; width: number; height: number } {
  const out = execFileSync('/usr/bin/identify', ['-format', '%m %w %h\n', file], {
    encoding: 'utf8',
  });
  const [format = '', width = '0', height = '0'] = (out.split('\n')[0] ?? '').split(' ');

  return { format, width: Number(width), height: Number(height) };
}
