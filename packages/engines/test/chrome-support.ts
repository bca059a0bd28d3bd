// Test helpers for the Chrome engine: a local web server that records what it receives, a small
// ZIP writer (it can write the hostile names real zip tools refuse), and a look at PDF pixels.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';

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

/** A ZIP archive of stored (uncompressed) entries, names taken as given. */
export function makeZip(entries: { name: string; data: string | Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const data = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }

  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);

  return Buffer.concat([...locals, directory, end]);
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
