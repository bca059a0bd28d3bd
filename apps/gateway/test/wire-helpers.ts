// Shared helpers of the wire tests: raw HTTP calls that keep status lines and body bytes, and the
// assertions every response of API.md §1.4 and §3 must pass.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'vitest';

import { FIXTURES, type Stack } from '../../../test/harness';

export const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface WireResponse {
  status: number;
  statusText: string;
  headers: Headers;
  text: string;
  json: any;
}

export interface CallOptions {
  /** An object is sent as JSON with `Content-Type: application/json`; a string is sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Defaults to the main origin. */
  base?: string;
}

/** A fetch over real HTTP; `key` null sends no Authorization header at all. */
export async function call(
  stack: Stack,
  key: string | null,
  method: string,
  route: string,
  options: CallOptions = {},
): Promise<WireResponse> {
  const headers: Record<string, string> = {};
  if (key !== null) {
    headers.authorization = `Bearer ${key}`;
  }
  if (options.body !== undefined && typeof options.body !== 'string') {
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, options.headers);
  const url = route.startsWith('http') ? route : `${options.base ?? stack.url}${route}`;
  const res = await fetch(url, {
    method,
    headers,
    ...(options.body === undefined
      ? {}
      : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
    text,
    json: jsonOf(text),
  };
}

/** The parsed body, or undefined for an empty or non-JSON one (assertions then fail on it). */
export function jsonOf(text: string): any {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/** node:http, for what fetch will not send as given (a `Host` header, a body without a type). */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<{
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: any;
}> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers: res.headers,
            body,
            text,
            json: jsonOf(text),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** An error answer: the status, its standard reason phrase, a JSON type and `{message, code}`. */
export function expectError(
  res: {
    status: number;
    statusText: string;
    headers: Headers | http.IncomingHttpHeaders;
    text: string;
  },
  status: number,
  code: string,
  reason?: string | RegExp,
): any {
  expect({ status: res.status, body: res.text }).toMatchObject({ status });
  const type =
    res.headers instanceof Headers ? res.headers.get('content-type') : res.headers['content-type'];
  expect(type).toMatch(/^application\/json\b/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body.code).toBe(code);
  expect(typeof body.message).toBe('string');
  expect((body.message as string).length).toBeGreaterThan(0);
  expect(body).not.toHaveProperty('data');
  if (reason instanceof RegExp) {
    expect(res.statusText).toMatch(reason);
  } else if (reason !== undefined) {
    expect(res.statusText).toBe(reason);
  }

  return body;
}

/** API.md §10.1: `{"data":` first, `}` last, compact, and the Java cut parses on its own. */
export function expectEnvelope(text: string): any {
  expect(text.startsWith('{"data":')).toBe(true);
  expect(text.endsWith('}')).toBe(true);
  const parsed = JSON.parse(text) as { data: unknown };
  expect(Object.keys(parsed)).toEqual(['data']);
  expect(text).toBe(JSON.stringify(parsed));
  expect(JSON.parse(text.slice(8, -1))).toEqual(parsed.data);

  return parsed.data;
}

/** Keys, in their recorded order, of the object `pick` finds in a fixture of sdk-fixtures/. */
export function fixtureKeys(file: string, pick: (raw: any) => Record<string, unknown>): string[] {
  const raw = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as unknown;
  return Object.keys(pick(raw));
}

/**
 * Ours must be the fixture's keys in the fixture's order, minus the ones we do not emit; `extra`
 * names keys this fixture lacks but other recordings have (compared in order on the overlap).
 */
export function expectKeyOrder(
  ours: Record<string, unknown>,
  recorded: string[],
  extra: string[] = [],
): void {
  const keys = Object.keys(ours);
  expect(keys.filter((k) => !recorded.includes(k))).toEqual(extra);
  expect(keys.filter((k) => recorded.includes(k))).toEqual(
    recorded.filter((k) => keys.includes(k)),
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A multipart body as the node 3 SDK builds it (API.md §4): the parser's hardest dialect. */
export function nodeMultipart(
  filename: string,
  content: Buffer,
  fields: Record<string, string> = {},
): { body: Buffer; contentType: string } {
  const boundary = '----------' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\ncontent-disposition:form-data;name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\ncontent-disposition:form-data;name="file";filename=${filename}\r\ncontent-type:application/octet-stream\r\n\r\n`,
    ),
  );
  parts.push(content, Buffer.from(`\r\n--${boundary}--\r\n`));

  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Uploads `content` to a waiting import/upload task's form URL, without Authorization. */
export async function upload(
  formUrl: string,
  filename: string,
  content: Buffer,
): Promise<WireResponse> {
  const { body, contentType } = nodeMultipart(filename, content);
  const res = await fetch(formUrl, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
    text,
    json: jsonOf(text),
  };
}
