// Picks the name of a downloaded file: Content-Disposition first, then the URL's last segment.

const EXTENDED_PARAM = /(?:^|;)\s*filename\*\s*=\s*("[^"]*"|[^;]*)/i;
const PLAIN_PARAM = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/i;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

/** Returns the file name a response names, or undefined when neither header nor URL gives one. */
export function pickFilename(contentDisposition: string | undefined, url: URL): string | undefined {
  const fromHeader =
    contentDisposition === undefined ? undefined : parseContentDisposition(contentDisposition);

  return fromHeader ?? sanitize(safeDecode(url.pathname.split('/').pop() ?? ''));
}

/** Reads `filename*` (RFC 8187) in preference to `filename` from a Content-Disposition value. */
export function parseContentDisposition(header: string): string | undefined {
  const extended = EXTENDED_PARAM.exec(header)?.[1];
  if (extended !== undefined) {
    const decoded = decodeExtended(extended.trim().replace(/^"|"$/g, ''));
    const name = decoded === undefined ? undefined : sanitize(decoded);
    if (name !== undefined) {
      return name;
    }
  }

  const plain = PLAIN_PARAM.exec(header);
  if (plain === null) {
    return undefined;
  }

  const value = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, '$1') : (plain[2] ?? '').trim();

  return sanitize(fromLatin1Mojibake(value));
}

function decodeExtended(value: string): string | undefined {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (match === null) {
    return undefined;
  }

  const charset = (match[1] ?? '').toLowerCase();
  const encoded = match[2] ?? '';
  if (charset === 'utf-8') {
    return safeDecode(encoded);
  }

  if (charset === 'iso-8859-1') {
    return Buffer.from(percentBytes(encoded)).toString('latin1');
  }

  return undefined;
}

function percentBytes(text: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '%' && /^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(text.charCodeAt(i) & 0xff);
    }
  }

  return bytes;
}

// Node reads header bytes as latin1, so a raw UTF-8 `filename="Kätze.jpg"` arrives as mojibake.
function fromLatin1Mojibake(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) {
    return value;
  }

  const utf8 = Buffer.from(value, 'latin1').toString('utf8');

  return utf8.includes('\ufffd') ? value : utf8;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

// Keeps only a base name: no directories, no control characters, never `.` or `..`.
function sanitize(name: string): string | undefined {
  const base = (name.split(/[/\\]/).pop() ?? '').replace(CONTROL_CHARS, '').trim();

  return base === '' || base === '.' || base === '..' ? undefined : base;
}
