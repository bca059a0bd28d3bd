// The signed-URL verifier against the verified vectors of API.md §6: each SDK's own test job,
// signed by that SDK (node through the official package itself, PHP and Python as recorded).
import CloudConvert from 'cloudconvert';
import { describe, expect, it } from 'vitest';

import {
  decodeJobParam,
  hasValidSignature,
  parseJobJson,
  parseSignedRequest,
} from '../src/services/signed-url';

const ORIGIN = 'https://s.cloudconvert.com';
const BASE = `${ORIGIN}/b3d85428-584e-4639-bc11-76b7dee9c109`;
const SECRET = 'NT8dpJkttEyfSk3qlRgUJtvTkx64vhyX';

/** Each SDK's URL job encoding, applied to the JSON that SDK writes. */
const urlSafeNoPadding = (json: string) =>
  Buffer.from(json).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const urlSafePadded = (json: string) =>
  Buffer.from(json).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

const NODE_JOB = {
  tasks: {
    'import-it': { operation: 'import/url', url: 'https://some.url', filename: 'logo.png' },
    'export-it': { operation: 'export/url', input: 'import-it', inline: true },
  },
} as const;
const PHP_JSON =
  '{"tasks":{"import-it":{"operation":"import\\/url","url":"https:\\/\\/some.url","filename":"test.png"},"export-it":{"operation":"export\\/url","input":"import-it","inline":true}},"tag":null,"webhook_url":null}';
const PYTHON_JSON =
  '{"tasks": {"import-file": {"operation": "import/url", "url": "https://github.com/cloudconvert/cloudconvert-php/raw/master/tests/Integration/files/input.pdf"}, "export-file": {"operation": "export/url", "input": "import-file"}}}';

const VECTORS: [string, string, string][] = [
  [
    'node',
    new CloudConvert('unused').signedUrls.sign(BASE, SECRET, NODE_JOB, 'mykey'),
    '209d54e4454a407de71a07e6e500f45155fecf58a4e53d68329fbf358efcd823',
  ],
  [
    'PHP',
    `${BASE}?job=${urlSafeNoPadding(PHP_JSON)}&cache_key=mykey&s=fb2760b572f652316d2ca218cec980024057ff108a472425c9fcc6136709cbe8`,
    'fb2760b572f652316d2ca218cec980024057ff108a472425c9fcc6136709cbe8',
  ],
  [
    'Python',
    `${BASE}?job=${urlSafePadded(PYTHON_JSON)}&cache_key=mykey&s=6dd147217a39534249a3cb418b357ba8cceacf74fc0db0d52630a07cac1ca268`,
    '6dd147217a39534249a3cb418b357ba8cceacf74fc0db0d52630a07cac1ca268',
  ],
];

const pathOf = (url: string) => url.slice(ORIGIN.length);

describe(hasValidSignature.name, () => {
  it.each(VECTORS)('accepts the %s vector and decodes its job', (_sdk, url, signature) => {
    const request = parseSignedRequest(pathOf(url))!;
    expect(request.signature).toBe(signature);
    expect(request.keyId).toBe('b3d85428-584e-4639-bc11-76b7dee9c109');
    expect(request.cacheKey).toBe('mykey');
    expect(hasValidSignature(request, SECRET, [ORIGIN])).toBe(true);

    const job = parseJobJson(decodeJobParam(request.job!)) as { tasks: Record<string, unknown> };
    expect(Object.keys(job.tasks)).toHaveLength(2);
  });

  it('decodes the node vector to the job the SDK was given', () => {
    const request = parseSignedRequest(pathOf(VECTORS[0]![1]))!;
    expect(parseJobJson(decodeJobParam(request.job!))).toEqual(NODE_JOB);
  });

  it.each(VECTORS)('refuses the %s vector with another secret, origin or job', (_sdk, url) => {
    const request = parseSignedRequest(pathOf(url))!;
    expect(hasValidSignature(request, `${SECRET}x`, [ORIGIN])).toBe(false);
    expect(hasValidSignature(request, SECRET, ['http://s.cloudconvert.com'])).toBe(false);
    const tampered = {
      ...request,
      signed: request.signed.replace('cache_key=mykey', 'cache_key=other'),
    };
    expect(hasValidSignature(tampered, SECRET, [ORIGIN])).toBe(false);
  });

  it('accepts any one of several origins (PUBLIC_URL, the request origin)', () => {
    const request = parseSignedRequest(pathOf(VECTORS[1]![1]))!;
    expect(hasValidSignature(request, SECRET, ['http://localhost:8080', ORIGIN])).toBe(true);
  });
});

describe(decodeJobParam.name, () => {
  // Chosen so that its base64 has several `+`, `/` and padding.
  const json = JSON.stringify({
    tasks: { a: { operation: 'import/raw', file: '???>>>???~~~ÿÿ', filename: 'ä.txt' } },
  });
  const standard = Buffer.from(json).toString('base64');

  it.each([
    ['standard base64', standard],
    ['url-safe, padded', standard.replace(/\+/g, '-').replace(/\//g, '_')],
    ['url-safe, no padding', standard.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')],
    [
      'node: only the first + and / mapped',
      standard.replace('+', '-').replace('/', '_').replace(/=+$/, ''),
    ],
    ['percent-escaped', encodeURIComponent(standard)],
  ])('reads %s', (_name, value) => {
    expect(standard).toMatch(/\+.*\+/);
    expect(standard).toMatch(/\/.*\//);
    expect(decodeJobParam(value)).toBe(json);
  });

  it.each([
    ['not base64', '!!!'],
    ['empty', ''],
    ['one character too many', `${standard.replace(/=+$/, '')}A`],
  ])('refuses %s with 422 INVALID_DATA', (_name, value) => {
    expect(() => parseJobJson(decodeJobParam(value))).toThrow(
      expect.objectContaining({ code: 'INVALID_DATA' }),
    );
  });
});

describe(parseSignedRequest.name, () => {
  it('needs a hex signature at the end', () => {
    expect(parseSignedRequest('/s/abc?job=e30')).toBeNull();
    expect(parseSignedRequest('/s/abc?job=e30&s=xyz')).toBeNull();
    expect(parseSignedRequest(`/s/abc?job=e30&s=${'a'.repeat(64)}&x=1`)).toBeNull();
  });

  it('signs everything before the last &s=, without a cache key when there is none', () => {
    const request = parseSignedRequest(`/s/abc?job=e30&s=${'A'.repeat(64)}`)!;
    expect(request).toEqual({
      keyId: 'abc',
      signed: '/s/abc?job=e30',
      signature: 'a'.repeat(64),
      job: 'e30',
      cacheKey: null,
    });
  });
});
