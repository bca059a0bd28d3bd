// Parses the multipart Content-Type and the part headers, tolerating every official SDK's quirks.
import { AppError } from '@convertd/errors';

/** A part's headers, reduced to what the upload target needs. */
export interface PartHeaders {
  /** The `name` parameter of Content-Disposition, `undefined` when absent. */
  name: string | undefined;
  /** True when Content-Disposition has a `filename` or `filename*` parameter, even an empty one. */
  hasFilename: boolean;
  /** The decoded filename, not yet reduced to a base name; `undefined` without a filename parameter. */
  filename: string | undefined;
  contentType: string | undefined;
  /** The `charset` parameter of the part's Content-Type (.NET text fields say utf-8). */
  charset: string | undefined;
}

// RFC 2046 allows 70 characters; be lenient, but a boundary is never a whole paragraph.
const MAX_BOUNDARY_LENGTH = 200;

// An unquoted filename runs to the end of the line (node SDK 3 sends `filename=my file.pdf` last),
// except when a parameter clearly follows it, as in .NET's `filename=a.pdf; filename*=utf-8''a.pdf`.
const NEXT_DISPOSITION_PARAMETER =
  /;\s*(?:name|filename\*?|size|(?:creation|modification|read)-date)\s*=/i;
const ENCODED_WORD = /^=\?([^?]+)\?([bq])\?([^?]*)\?=$/i;
const EXT_VALUE = /^([^']*)'[^']*'(.*)$/s;
const PERCENT_ESCAPE = /%([0-9a-f]{2})/gi;
const NO_GREEDY_PARAMETERS: ReadonlySet<string> = new Set();
const GREEDY_DISPOSITION_PARAMETERS: ReadonlySet<string> = new Set(['filename']);
const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true });

/** Returns the boundary of a `multipart/form-data` Content-Type, quoted (PHP, .NET) or not. */
export function parseBoundary(contentType: string | undefined): string {
  const semicolon = contentType?.indexOf(';') ?? -1;
  const type = contentType
    ?.slice(0, semicolon === -1 ? undefined : semicolon)
    .trim()
    .toLowerCase();
  if (contentType === undefined || type !== 'multipart/form-data' || semicolon === -1) {
    throw new AppError('UPLOAD_FAILED', {
      message: 'The upload must be sent as multipart/form-data with a boundary.',
    });
  }

  const boundary = parseParameters(contentType, semicolon, NO_GREEDY_PARAMETERS).get('boundary');
  if (
    boundary === undefined ||
    boundary.length === 0 ||
    boundary.length > MAX_BOUNDARY_LENGTH ||
    /[\r\n]/.test(boundary)
  ) {
    throw new AppError('UPLOAD_FAILED', {
      message: 'The multipart/form-data content type has no valid boundary.',
    });
  }

  return boundary;
}

/** Parses a header block (the bytes between the delimiter line and the blank line). */
export function parsePartHeaders(block: Buffer): PartHeaders {
  const headers = new Map<string, string>();
  let previous: string | undefined;
  for (const line of decodeHeaderBytes(block).split('\r\n')) {
    // Obsolete line folding: a continuation line starts with whitespace.
    if ((line.startsWith(' ') || line.startsWith('\t')) && previous !== undefined) {
      headers.set(previous, `${headers.get(previous) ?? ''} ${line.trim()}`.trim());
      continue;
    }

    const colon = line.indexOf(':');
    if (colon <= 0) {
      continue;
    }

    const name = line.slice(0, colon).trim().toLowerCase();
    if (headers.has(name)) {
      previous = undefined;
      continue;
    }

    headers.set(name, line.slice(colon + 1).trim());
    previous = name;
  }

  const disposition = headers.get('content-disposition');
  const params =
    disposition === undefined ? new Map<string, string>() : parseDisposition(disposition);
  const contentType = headers.get('content-type') || undefined;

  return {
    name: params.get('name'),
    hasFilename: params.has('filename') || params.has('filename*'),
    filename: resolveFilename(params),
    contentType,
    charset: contentType === undefined ? undefined : parseCharset(contentType),
  };
}

/**
 * Reduces a client filename to what the user would call the file's name: the last path segment,
 * without control characters, and 'file' when nothing is left.
 */
export function toBaseName(filename: string): string {
  let clean = '';
  for (const char of filename) {
    const code = char.charCodeAt(0);
    if (code > 0x1f && code !== 0x7f) {
      clean += char;
    }
  }

  const base = clean.slice(Math.max(clean.lastIndexOf('/'), clean.lastIndexOf('\\')) + 1);

  return base === '' || base === '.' || base === '..' ? 'file' : base;
}

/** Decodes a text field's bytes in the part's charset, UTF-8 unless the part says otherwise. */
export function decodeFieldValue(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

function parseDisposition(value: string): Map<string, string> {
  const semicolon = value.indexOf(';');
  if (semicolon === -1) {
    return new Map();
  }

  return parseParameters(value, semicolon, GREEDY_DISPOSITION_PARAMETERS, true);
}

function parseCharset(contentType: string): string | undefined {
  const semicolon = contentType.indexOf(';');
  if (semicolon === -1) {
    return undefined;
  }

  return parseParameters(contentType, semicolon, NO_GREEDY_PARAMETERS).get('charset') || undefined;
}

// Prefers RFC 5987 `filename*` (.NET), then an RFC 2047 encoded word (.NET for non-ASCII names
// when no `filename*` is sent), then the plain value.
function resolveFilename(params: ReadonlyMap<string, string>): string | undefined {
  const extended = params.get('filename*');
  const decodedExtended = extended === undefined ? undefined : decodeExtValue(extended);
  if (decodedExtended !== undefined) {
    return decodedExtended;
  }

  const plain = params.get('filename');
  if (plain === undefined) {
    return undefined;
  }

  return decodeEncodedWord(plain) ?? plain;
}

/**
 * Parses `; key=value` pairs from `from` on. Values are quoted strings, tokens up to the next `;`,
 * or, for the `greedy` keys, everything up to the end unless another known parameter follows.
 */
function parseParameters(
  input: string,
  from: number,
  greedy: ReadonlySet<string>,
  isDisposition = false,
): Map<string, string> {
  const params = new Map<string, string>();
  let index = from;
  while (index < input.length) {
    if (input[index] === ';') {
      index += 1;
    }

    const equals = input.indexOf('=', index);
    if (equals === -1) {
      break;
    }

    const semicolon = input.indexOf(';', index);
    if (semicolon !== -1 && semicolon < equals) {
      index = semicolon;
      continue;
    }

    const key = input.slice(index, equals).trim().toLowerCase();
    index = skipWhitespace(input, equals + 1);
    const isGreedy = greedy.has(key);
    let value: string;
    const quoted = input[index] === '"' ? readQuoted(input, index) : undefined;
    if (quoted !== undefined && (quoted.endsParameter || !isGreedy)) {
      value = isDisposition ? quoted.value.replaceAll('%22', '"') : quoted.value;
      index = quoted.end;
    } else if (isGreedy) {
      // Unquoted, or a quote that does not close the value: `filename="a" b.pdf` is a name too.
      const next = NEXT_DISPOSITION_PARAMETER.exec(input.slice(index));
      const end = next === null ? input.length : index + next.index;
      value = input.slice(index, end).trimEnd();
      index = end;
    } else {
      const end = semicolon === -1 ? input.length : semicolon;
      value = input.slice(index, end).trim();
      index = end;
    }

    if (key !== '' && !params.has(key)) {
      params.set(key, value);
    }
  }

  return params;
}

// Reads a quoted string starting at the opening quote. Only `\"` and `\\` are escapes: browsers
// and IE send Windows paths like `C:\x\a.pdf` with bare backslashes.
function readQuoted(
  input: string,
  start: number,
): { value: string; end: number; endsParameter: boolean } | undefined {
  let value = '';
  let index = start + 1;
  while (index < input.length) {
    const char = input.charAt(index);
    if (char === '"') {
      const after = skipWhitespace(input, index + 1);
      const endsParameter = after >= input.length || input[after] === ';';
      const semicolon = input.indexOf(';', after);
      const end = endsParameter ? after : semicolon === -1 ? input.length : semicolon;

      return { value, end, endsParameter };
    }

    const next = input[index + 1];
    if (char === '\\' && (next === '"' || next === '\\')) {
      value += next;
      index += 2;
      continue;
    }

    value += char;
    index += 1;
  }

  return undefined;
}

function skipWhitespace(input: string, index: number): number {
  let position = index;
  while (input[position] === ' ' || input[position] === '\t') {
    position += 1;
  }

  return position;
}

// RFC 5987 / 8187: `utf-8'en'na%C3%AFve.pdf`; some clients wrongly quote it.
function decodeExtValue(raw: string): string | undefined {
  const unquoted =
    raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  const match = EXT_VALUE.exec(unquoted);
  if (match === null) {
    return undefined;
  }

  const [, charset = '', encoded = ''] = match;

  return decodeBytes(percentDecode(encoded), charset || 'utf-8');
}

// RFC 2047 encoded word, e.g. `=?utf-8?B?S2F0emUg54yrLmpwZw==?=`.
function decodeEncodedWord(raw: string): string | undefined {
  const match = ENCODED_WORD.exec(raw);
  if (match === null) {
    return undefined;
  }

  const [, charset = '', encoding = '', text = ''] = match;
  const bytes =
    encoding.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64')
      : percentDecode(text.replaceAll('_', ' ').replace(/=([0-9a-f]{2})/gi, '%$1'));

  return decodeBytes(bytes, charset);
}

function percentDecode(text: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const match of text.matchAll(PERCENT_ESCAPE)) {
    parts.push(Buffer.from(text.slice(last, match.index), 'utf8'));
    parts.push(Buffer.from([Number.parseInt(match[1] ?? '0', 16)]));
    last = match.index + match[0].length;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));

  return Buffer.concat(parts);
}

function decodeBytes(bytes: Buffer, charset: string): string | undefined {
  try {
    return new TextDecoder(charset, { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

// Raw UTF-8 is what every SDK sends (node 3 writes the name as is; .NET smuggles UTF-8 bytes through
// Latin-1); bytes that are not valid UTF-8 can only be Latin-1.
function decodeHeaderBytes(block: Buffer): string {
  try {
    return UTF8_STRICT.decode(block);
  } catch {
    return block.toString('latin1');
  }
}
