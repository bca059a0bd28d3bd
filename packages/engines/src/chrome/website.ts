// The capture-website options that describe the website: its URL, the headers sent to it, and
// the name of the file made from it.
import { AppError } from '@convertd/errors';

// Request headers a user may not set: they describe the connection, not the request.
const RESERVED_HEADERS =
  /^(host|content-length|transfer-encoding|connection|keep-alive|upgrade|te|trailer|proxy-.*)$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The capture-website `url`, which must be an http or https URL. */
export function websiteUrl(value: unknown): URL {
  const text = typeof value === 'string' ? value.trim() : '';
  const invalid = (message: string): AppError =>
    new AppError('INVALID_DATA', { errors: { url: [message] } });
  if (text === '') {
    throw invalid('The url field is required.');
  }

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('The url must be a valid http or https URL.');
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`The url must use http or https, not ${url.protocol.replace(/:$/, '')}.`);
  }

  return url;
}

/** The `headers` option as request headers; names and values that HTTP cannot carry are refused. */
export function requestHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) {
    return {};
  }

  const headers: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    const text = String(raw);
    if (!HEADER_NAME.test(name) || /[\r\n\0]/.test(text)) {
      throw new AppError('INVALID_DATA', {
        errors: { headers: [`The header ${JSON.stringify(name)} is not a valid HTTP header.`] },
      });
    }

    if (!RESERVED_HEADERS.test(name)) {
      headers[name.toLowerCase()] = text;
    }
  }

  return headers;
}

/** `example.com` for https://example.com:8443/a; IPv6 colons become dashes. */
export function fileStem(url: URL): string {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/[^A-Za-z0-9.-]/g, '-');

  return host === '' ? 'website' : host;
}
