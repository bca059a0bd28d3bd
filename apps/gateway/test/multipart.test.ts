import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import { setImmediate as tick } from 'node:timers/promises';

import CloudConvert from 'cloudconvert';
import { UploadFile } from 'cloudconvert/built/lib/CloudConvert';
import { afterEach, describe, expect, it } from 'vitest';

import { isAppError, type ErrorCode } from '@convertd/errors';

import { parseUpload, type ParseUploadOptions } from '../src/upload/multipart';
import { parseBoundary } from '../src/upload/multipart-headers';

type Chunking = 'whole' | 'bytes' | 'random';
type Field = readonly [name: string, value: string];
interface Part {
  headers: string[];
  content: Buffer | string;
}

const MB = 1024 * 1024;
const NODE3_BOUNDARY = '----------k3x9a0b1c2d3e4f5g6h7i8j9k0l1m2n3';
const CHUNKINGS: readonly Chunking[] = ['whole', 'bytes', 'random'];
const NODE3_NAMES = [
  'Katze 猫 progressive (1).jpg',
  "kids' stories & tales [v2] 100%.pdf",
  'notes; draft #3 = final.docx',
  'Ünïcødé façade 🎉 – 東京.pptx',
  'input.png',
];

// Random bytes salted with CRLFs, dashes and near-miss delimiters, never the delimiter itself.
function awkwardBytes(size: number, boundary: string, seed: number): Buffer {
  const random = mulberry32(seed);
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) {
    data[i] = Math.floor(random() * 256);
  }
  const traps = [
    '\r\n',
    '\r\n\r\n',
    '--',
    `--${boundary}`,
    `\r\n--${boundary.slice(0, -1)}`,
    `\r\n-${boundary}`,
    `\r\n--${boundary.slice(0, 3)}\r\n`,
    `\r\r\n--${boundary.slice(0, -1)}x`,
  ];
  for (let i = 0; i < size / 64; i += 1) {
    const trap = traps[Math.floor(random() * traps.length)] ?? '';
    data.write(trap, Math.floor(random() * Math.max(size - trap.length, 1)), 'latin1');
  }
  // End on a delimiter prefix, so the real delimiter follows a held-back CR.
  data.write(`\r\n--${boundary.slice(0, 2)}\r`, Math.max(size - boundary.length, 0), 'latin1');
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  for (let at = data.indexOf(delimiter); at !== -1; at = data.indexOf(delimiter, at)) {
    data[at + delimiter.length - 1] = 0x21;
  }

  return data;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function feed(body: Buffer, chunking: Chunking, seed = 7): Readable {
  const random = mulberry32(seed);
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= body.length) {
        this.push(null);
        return;
      }

      const size =
        chunking === 'whole'
          ? body.length
          : chunking === 'bytes'
            ? 1
            : random() < 0.5
              ? 1 + Math.floor(random() * 8)
              : 1 + Math.floor(random() * 5000);
      this.push(body.subarray(offset, offset + size));
      offset += size;
    },
  });
}

// The shape every SDK but node 3 shares: `--b CRLF headers CRLF CRLF content CRLF`, then `--b--`.
function standardBody(boundary: string, parts: Part[], trailer = '\r\n'): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    const head = part.headers.map((header) => `${header}\r\n`).join('');
    pieces.push(Buffer.from(`--${boundary}\r\n${head}\r\n`), Buffer.from(part.content));
    pieces.push(Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--${trailer}`));

  return Buffer.concat(pieces);
}

// cloudconvert-node 3.0.0 UploadFile.toMultiPart, byte for byte.
function node3Body(fields: Field[], filename: string, data: Buffer, boundary = NODE3_BOUNDARY) {
  const pieces: Buffer[] = [Buffer.from(`--${boundary}\r\n`)];
  fields.forEach(([name, value], index) => {
    if (index > 0) {
      pieces.push(Buffer.from(`\r\n--${boundary}\r\n`));
    }
    pieces.push(Buffer.from(`content-disposition:form-data;name="${name}"\r\n\r\n${value}`));
  });
  if (fields.length > 0) {
    pieces.push(Buffer.from(`\r\n--${boundary}\r\n`));
  }
  pieces.push(
    Buffer.from(
      `content-disposition:form-data;name="file";filename=${filename}\r\ncontent-type:application/octet-stream\r\n\r\n`,
    ),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );

  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(pieces) };
}

function fieldParts(fields: Field[], extraHeaders: (value: string) => string[] = () => []): Part[] {
  return fields.map(([name, value]) => ({
    headers: [`Content-Disposition: form-data; name="${name}"`, ...extraHeaders(value)],
    content: value,
  }));
}

async function readAll(file: { stream: Readable }): Promise<Buffer> {
  return buffer(file.stream);
}

function parse(
  body: Readable,
  contentType: string | undefined,
  options: Partial<ParseUploadOptions<Buffer>> = {},
) {
  return parseUpload(body, contentType, { maxFileBytes: 100 * MB, onFile: readAll, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

function expectCode(error: unknown, code: ErrorCode): void {
  expect(isAppError(error) ? error.code : error).toBe(code);
}

const FIELDS: Field[] = [
  ['expires', '1735689600'],
  ['redirect', 'https://example.com/done?x=1&y=ü'],
  ['signature', 'f'.repeat(64)],
];

describe(parseUpload.name, () => {
  describe('node SDK 3.0.0 (lower-case headers, unquoted filename)', () => {
    it('builds the same bytes as the SDK itself', async () => {
      const data = awkwardBytes(3000, NODE3_BOUNDARY, 1);
      const upload = new UploadFile(data, NODE3_NAMES[0]);
      for (const [name, value] of FIELDS) {
        upload.add(name, value);
      }
      const { stream } = upload.toMultiPart(NODE3_BOUNDARY);
      const chunks: Uint8Array[] = [];
      for await (const chunk of stream) {
        chunks.push(chunk);
      }

      const expected = node3Body(FIELDS, NODE3_NAMES[0] ?? '', data).body;
      expect(Buffer.concat(chunks).equals(expected)).toBe(true);
    });

    for (const chunking of CHUNKINGS) {
      it.each(NODE3_NAMES)(`keeps the exact name %s (${chunking} chunks)`, async (filename) => {
        const data = awkwardBytes(chunking === 'bytes' ? 4000 : 70_000, NODE3_BOUNDARY, 2);
        const { body, contentType } = node3Body(FIELDS, filename, data);

        const result = await parse(feed(body, chunking), contentType);

        expect(result.file).toEqual({
          fieldName: 'file',
          filename,
          contentType: 'application/octet-stream',
          size: data.length,
        });
        expect(result.fileResult.equals(data)).toBe(true);
        expect(result.fields).toEqual(Object.fromEntries(FIELDS));
      });
    }

    it('sends the file with no fields at all', async () => {
      const data = awkwardBytes(10_000, NODE3_BOUNDARY, 3);
      const { body, contentType } = node3Body([], 'a b.bin', data);

      const result = await parse(feed(body, 'random'), contentType);

      expect(result.fileResult.equals(data)).toBe(true);
      expect(result.fields).toEqual({});
    });
  });

  it('survives 40 random chunkings of bodies with short and 70-character boundaries', async () => {
    for (let seed = 1; seed <= 40; seed += 1) {
      const boundary = seed % 2 === 0 ? 'z' : 'q'.repeat(69) + String(seed % 10);
      const data = awkwardBytes(2000 + seed * 97, boundary, seed);
      const body = standardBody(boundary, [
        ...fieldParts([['k', `v${seed}`]]),
        {
          headers: [`content-disposition:form-data;name="file";filename=f ${seed}.bin`],
          content: data,
        },
      ]);

      const result = await parse(
        feed(body, 'random', seed),
        `multipart/form-data; boundary=${boundary}`,
      );

      expect(result.fileResult.equals(data)).toBe(true);
      expect(result.file.filename).toBe(`f ${seed}.bin`);
      expect(result.fields).toEqual({ k: `v${seed}` });
    }
  });

  it('parses what the real node SDK posts over HTTP, and hands the fields to onFile', async () => {
    const data = awkwardBytes(200_000, 'x', 4);
    let seenFields: Record<string, string> | undefined;
    const url = await serve(async (req) => {
      const result = await parse(req, req.headers['content-type'], {
        onFile: async (file) => {
          seenFields = { ...file.fields };
          return readAll(file);
        },
      });
      return result;
    });

    const task = {
      operation: 'import/upload',
      status: 'waiting',
      result: { form: { url, parameters: Object.fromEntries(FIELDS) } },
    };
    await new CloudConvert('key').tasks.upload(
      task as unknown as Parameters<CloudConvert['tasks']['upload']>[0],
      data,
      NODE3_NAMES[1],
    );

    const result = await lastResult;
    expect(result.file.filename).toBe(NODE3_NAMES[1]);
    expect(result.fileResult.equals(data)).toBe(true);
    expect(seenFields).toEqual(Object.fromEntries(FIELDS));
  });

  it('parses a chunked request body (no Content-Length) over HTTP', async () => {
    const boundary = 'chunky';
    const data = awkwardBytes(300_000, boundary, 5);
    const body = standardBody(boundary, [
      ...fieldParts(FIELDS),
      {
        headers: ['Content-Disposition: form-data; name="file"; filename="big input.bin"'],
        content: data,
      },
    ]);
    const url = await serve((req) => parse(req, req.headers['content-type']));

    const status = await postChunked(url, `multipart/form-data; boundary=${boundary}`, body);

    const result = await lastResult;
    expect(status).toBe(201);
    expect(result.fileResult.equals(data)).toBe(true);
    expect(result.fields).toEqual(Object.fromEntries(FIELDS));
  });

  describe.each(CHUNKINGS)('other SDKs (%s chunks)', (chunking) => {
    const size = chunking === 'bytes' ? 3000 : 50_000;

    it('node 2.x form-data: standard quoted filename with a space', async () => {
      const boundary = '--------------------------515890814546601021194782';
      const data = awkwardBytes(size, boundary, 6);
      const body = standardBody(boundary, [
        ...fieldParts(FIELDS),
        {
          headers: [
            'Content-Disposition: form-data; name="file"; filename="input file.txt"',
            'Content-Type: text/plain',
          ],
          content: data,
        },
      ]);

      const result = await parse(feed(body, chunking), `multipart/form-data; boundary=${boundary}`);

      expect(result.file).toMatchObject({ filename: 'input file.txt', contentType: 'text/plain' });
      expect(result.fileResult.equals(data)).toBe(true);
      expect(result.fields).toEqual(Object.fromEntries(FIELDS));
    });

    it('PHP: quoted boundary and a Content-Length on every part', async () => {
      const boundary = '6655f0a1b2c3d4.56789012';
      const data = awkwardBytes(size, boundary, 7);
      const body = standardBody(boundary, [
        ...fieldParts(FIELDS, (value) => [`Content-Length: ${Buffer.byteLength(value)}`]),
        {
          headers: [
            'Content-Disposition: form-data; name="file"; filename="input.pdf"',
            `Content-Length: ${data.length}`,
            'Content-Type: application/pdf',
          ],
          content: data,
        },
      ]);

      const result = await parse(
        feed(body, chunking),
        `multipart/form-data; boundary="${boundary}"`,
      );

      expect(result.file).toMatchObject({ filename: 'input.pdf', contentType: 'application/pdf' });
      expect(result.fileResult.equals(data)).toBe(true);
      expect(result.fields).toEqual(Object.fromEntries(FIELDS));
    });

    it('PHP: a string upload is a `file` part without a filename', async () => {
      const boundary = '6655f0a1b2c3d4.00000001';
      const data = awkwardBytes(size, boundary, 8);
      const body = standardBody(boundary, [
        { headers: ['Content-Disposition: form-data; name="file"'], content: data },
      ]);

      const result = await parse(
        feed(body, chunking),
        `multipart/form-data; boundary="${boundary}"`,
      );

      expect(result.file).toEqual({
        fieldName: 'file',
        filename: 'file',
        contentType: undefined,
        size: data.length,
      });
      expect(result.fileResult.equals(data)).toBe(true);
    });

    it('Python requests: no Content-Type on the file part', async () => {
      const boundary = '9b2e4c8f0a1d3e5f7a9b1c3d5e7f9a1b';
      const data = awkwardBytes(size, boundary, 9);
      const body = standardBody(boundary, [
        ...fieldParts(FIELDS),
        {
          headers: ['Content-Disposition: form-data; name="file"; filename="in put.txt"'],
          content: data,
        },
      ]);

      const result = await parse(feed(body, chunking), `multipart/form-data; boundary=${boundary}`);

      expect(result.file).toMatchObject({ filename: 'in put.txt', contentType: undefined });
      expect(result.fileResult.equals(data)).toBe(true);
    });

    it('Ruby Faraday: per-part Content-Length and Content-Transfer-Encoding', async () => {
      const boundary = '-----------RubyMultipartPost-1f3a5c7e9b2d4f6a8c0e2b4d6f8a0c2e';
      const data = awkwardBytes(size, boundary, 10);
      const body = standardBody(
        boundary,
        [
          ...fieldParts(FIELDS),
          {
            headers: [
              'Content-Disposition: form-data; name="file"; filename="input.png"',
              `Content-Length: ${data.length}`,
              'Content-Type: image/png',
              'Content-Transfer-Encoding: binary',
            ],
            content: data,
          },
        ],
        '\r\n\r\n',
      );

      const result = await parse(feed(body, chunking), `multipart/form-data; boundary=${boundary}`);

      expect(result.file).toMatchObject({ filename: 'input.png', contentType: 'image/png' });
      expect(result.fileResult.equals(data)).toBe(true);
      expect(result.fields).toEqual(Object.fromEntries(FIELDS));
    });

    it('.NET SDK: text/plain fields with token names, raw UTF-8 filename', async () => {
      const boundary = '0f8fad5b-d9cb-469f-a165-70867728950e';
      const data = awkwardBytes(size, boundary, 11);
      const body = standardBody(boundary, [
        ...FIELDS.map(([name, value]) => ({
          headers: [
            'Content-Type: text/plain; charset=utf-8',
            `Content-Disposition: form-data; name=${name}`,
          ],
          content: value,
        })),
        {
          headers: [`Content-Disposition: form-data; name="file"; filename="Katze 猫 (1).jpg"`],
          content: data,
        },
      ]);

      const result = await parse(
        feed(body, chunking),
        `multipart/form-data; boundary="${boundary}"`,
      );

      expect(result.file).toMatchObject({ filename: 'Katze 猫 (1).jpg', contentType: undefined });
      expect(result.fileResult.equals(data)).toBe(true);
      expect(result.fields).toEqual(Object.fromEntries(FIELDS));
    });
  });

  describe('filenames', () => {
    async function filenameOf(disposition: string): Promise<string> {
      const boundary = 'b';
      const body = standardBody(boundary, [{ headers: [disposition], content: 'x' }]);
      const result = await parse(feed(body, 'random'), `multipart/form-data; boundary=${boundary}`);
      return result.file.filename;
    }

    it.each([
      // .NET MultipartFormDataContent.Add(content, "file", name): RFC 2047 word plus filename*.
      [
        `Content-Disposition: form-data; name=file; filename="=?utf-8?B?${Buffer.from('Katze 猫.jpg').toString('base64')}?="; filename*=utf-8''Katze%20%E7%8C%AB.jpg`,
        'Katze 猫.jpg',
      ],
      [
        "Content-Disposition: form-data; name=file; filename=a.pdf; filename*=utf-8''b%20c.pdf",
        'b c.pdf',
      ],
      [
        'Content-Disposition: form-data; filename*=UTF-8\'\'%F0%9F%8E%89.txt; name="file"',
        '🎉.txt',
      ],
      [
        `Content-Disposition: form-data; name="file"; filename="=?utf-8?B?${Buffer.from('é.txt').toString('base64')}?="`,
        'é.txt',
      ],
      [
        'Content-Disposition: form-data; name="file"; filename*=iso-8859-1\'\'caf%E9.txt',
        'café.txt',
      ],
      [
        'Content-Disposition: form-data; name="file"; filename="my %22quoted%22 file.pdf"',
        'my "quoted" file.pdf',
      ],
      ['Content-Disposition: form-data; name="file"; filename="say \\"hi\\".txt"', 'say "hi".txt'],
      ['Content-Disposition: form-data; name="file"; filename="C:\\Users\\me\\a b.pdf"', 'a b.pdf'],
      ['Content-Disposition: form-data; name="file"; filename="../../etc/a.pdf"', 'a.pdf'],
      ['content-disposition:form-data;name="file";filename=../x/../a.pdf', 'a.pdf'],
      [
        'content-disposition:form-data;name="file";filename=trailing space.pdf   ',
        'trailing space.pdf',
      ],
      ['content-disposition:form-data;name="file";filename="quoted" rest.pdf', '"quoted" rest.pdf'],
      ['content-disposition:form-data;filename=first.pdf;name="file"', 'first.pdf'],
      ['CONTENT-DISPOSITION :  form-data ; name = "file" ; filename = "spaced.pdf"', 'spaced.pdf'],
      ['Content-Disposition: form-data; name="file"; filename=""', 'file'],
      ['Content-Disposition: form-data; name="file"; filename="dir/"', 'file'],
    ])('%s → %s', async (disposition, expected) => {
      expect(await filenameOf(disposition)).toBe(expected);
    });

    it('falls back to Latin-1 when the header bytes are not UTF-8', async () => {
      const head = Buffer.from(
        '--b\r\nContent-Disposition: form-data; name="file"; filename="caf',
        'latin1',
      );
      const body = Buffer.concat([
        head,
        Buffer.from([0xe9]),
        Buffer.from('.txt"\r\n\r\nx\r\n--b--'),
      ]);

      const result = await parse(feed(body, 'whole'), 'multipart/form-data; boundary=b');

      expect(result.file.filename).toBe('café.txt');
    });

    it("uses 'file' as field name when the file part has an empty name", async () => {
      const body = standardBody('b', [
        { headers: ['Content-Disposition: form-data; name=""; filename="a.txt"'], content: 'x' },
      ]);

      const result = await parse(feed(body, 'whole'), 'multipart/form-data; boundary=b');

      expect(result.file.fieldName).toBe('file');
    });
  });

  describe('framing', () => {
    it('ignores the preamble, transport padding and the epilogue', async () => {
      const data = awkwardBytes(20_000, 'bnd', 12);
      const body = Buffer.concat([
        Buffer.from('This is the preamble.\r\n--bn\r\n'),
        Buffer.from('\r\n--bnd  \t\r\nContent-Disposition: form-data; name="a"\r\n\r\n1'),
        Buffer.from(
          '\r\n--bnd\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n',
        ),
        data,
        Buffer.from('\r\n--bnd--\r\nepilogue --bnd\r\n garbage'),
      ]);

      for (const chunking of CHUNKINGS) {
        const result = await parse(feed(body, chunking), 'multipart/form-data; boundary=bnd');
        expect(result.fileResult.equals(data)).toBe(true);
        expect(result.fields).toEqual({ a: '1' });
      }
    });

    it('accepts a part without headers and a body without a final CRLF', async () => {
      const body = Buffer.from(
        '--b\r\n\r\nanonymous\r\n--b\r\ncontent-disposition:form-data;name="file";filename=f\r\n\r\nx\r\n--b--',
      );

      const result = await parse(feed(body, 'bytes'), 'multipart/form-data; boundary=b');

      expect(result.fileResult.toString()).toBe('x');
      expect(result.fields).toEqual({});
    });

    it('streams only the first file, ignores later parts and drains the body', async () => {
      const body = standardBody('b', [
        { headers: ['Content-Disposition: form-data; name="before"'], content: 'kept' },
        {
          headers: ['Content-Disposition: form-data; name="file"; filename="one.txt"'],
          content: 'one',
        },
        {
          headers: ['Content-Disposition: form-data; name="file"; filename="two.txt"'],
          content: 'two',
        },
        { headers: ['Content-Disposition: form-data; name="after"'], content: 'ignored' },
      ]);
      const source = feed(body, 'random');
      let calls = 0;

      const result = await parse(source, 'multipart/form-data; boundary=b', {
        onFile: (file) => {
          calls += 1;
          return readAll(file);
        },
      });

      expect(calls).toBe(1);
      expect(result.file.filename).toBe('one.txt');
      expect(result.fileResult.toString()).toBe('one');
      expect(result.fields).toEqual({ before: 'kept' });
      expect(source.readableEnded).toBe(true);
    });

    it('decodes text fields as UTF-8 and keeps empty ones', async () => {
      const body = standardBody('b', [
        ...fieldParts([
          ['name', 'Grüße 猫 🎉'],
          ['empty', ''],
        ]),
        { headers: ['Content-Disposition: form-data; name="file"; filename="f"'], content: '' },
      ]);

      const result = await parse(feed(body, 'bytes'), 'multipart/form-data; boundary=b');

      expect(result.fields).toEqual({ name: 'Grüße 猫 🎉', empty: '' });
      expect(result.file.size).toBe(0);
    });
  });

  describe('errors', () => {
    const file = (content: string | Buffer): Part => ({
      headers: ['Content-Disposition: form-data; name="file"; filename="f.bin"'],
      content,
    });

    it.each([
      [undefined],
      ['application/json'],
      ['multipart/form-data'],
      ['multipart/form-data; boundary='],
      ['multipart/form-data; boundary=""'],
      ['multipart/mixed; boundary=b'],
      ['garbage;;;=='],
    ])('rejects the content type %s with UPLOAD_FAILED', async (contentType) => {
      const source = feed(standardBody('b', [file('x')]), 'whole');

      expectCode(await rejection(parse(source, contentType)), 'UPLOAD_FAILED');
    });

    it('rejects a body without any file part', async () => {
      const body = standardBody('b', fieldParts(FIELDS));

      const error = await rejection(parse(feed(body, 'random'), 'multipart/form-data; boundary=b'));

      expectCode(error, 'UPLOAD_FAILED');
      expect((error as Error).message).toBe('The upload contains no file part.');
    });

    it.each([
      ['an empty body', ''],
      ['a body without the boundary', 'just some bytes'],
      ['a malformed delimiter line', '--b junk\r\n\r\nx\r\n--b--'],
    ])('rejects %s', async (_label, text) => {
      const error = await rejection(
        parse(feed(Buffer.from(text), 'whole'), 'multipart/form-data; boundary=b'),
      );

      expectCode(error, 'UPLOAD_FAILED');
    });

    it('rejects a truncated body and errors the file stream, so no partial file is stored', async () => {
      const data = awkwardBytes(100_000, 'b', 13);
      const whole = standardBody('b', [file(data)]);
      let consumerError: unknown;
      let stored = false;

      const error = await rejection(
        parse(
          feed(whole.subarray(0, whole.length - 1000), 'random'),
          'multipart/form-data; boundary=b',
          {
            onFile: async (upload) => {
              try {
                const bytes = await readAll(upload);
                stored = true;
                return bytes;
              } catch (streamError) {
                consumerError = streamError;
                throw streamError;
              }
            },
          },
        ),
      );

      expectCode(error, 'UPLOAD_FAILED');
      expectCode(consumerError, 'UPLOAD_FAILED');
      expect(stored).toBe(false);
    });

    it('errors the file stream when only the closing boundary is missing', async () => {
      const body = Buffer.from(
        '--b\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nall\r\n--b\r\n',
      );
      let consumerError: unknown;

      const error = await rejection(
        parse(feed(body, 'whole'), 'multipart/form-data; boundary=b', {
          onFile: (upload) =>
            readAll(upload).catch((streamError: unknown) => {
              consumerError = streamError;
              throw streamError;
            }),
        }),
      );

      expectCode(error, 'UPLOAD_FAILED');
      expectCode(consumerError, 'UPLOAD_FAILED');
    });

    it('rejects an interrupted body with UPLOAD_FAILED', async () => {
      const source = new Readable({ read() {} });
      const pending = parse(source, 'multipart/form-data; boundary=b');
      source.push('--b\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nabc');
      await tick();
      source.destroy(new Error('ECONNRESET'));

      expectCode(await rejection(pending), 'UPLOAD_FAILED');
    });

    it('rejects an oversize file with PAYLOAD_TOO_LARGE and destroys its stream', async () => {
      const data = awkwardBytes(200_000, 'b', 14);
      let consumerError: unknown;

      const source = feed(standardBody('b', [file(data)]), 'random');

      const error = await rejection(
        parse(source, 'multipart/form-data; boundary=b', {
          maxFileBytes: 100_000,
          onFile: (upload) =>
            readAll(upload).catch((streamError: unknown) => {
              consumerError = streamError;
              throw streamError;
            }),
        }),
      );

      expectCode(error, 'PAYLOAD_TOO_LARGE');
      expect(consumerError).toBe(error);
      // The rest is discarded, not left hanging, so a 413 answer can still be written.
      await finished(source);
    });

    it('accepts a file of exactly maxFileBytes', async () => {
      const data = awkwardBytes(1000, 'b', 15);

      const result = await parse(
        feed(standardBody('b', [file(data)]), 'bytes'),
        'multipart/form-data; boundary=b',
        {
          maxFileBytes: 1000,
        },
      );

      expect(result.file.size).toBe(1000);
    });

    it('rejects an oversize field, too many fields and oversize part headers', async () => {
      const ct = 'multipart/form-data; boundary=b';
      const big = standardBody('b', [...fieldParts([['x', 'y'.repeat(70_000)]]), file('x')]);
      const many = standardBody('b', [
        ...fieldParts(Array.from({ length: 11 }, (_, i): Field => [`f${i}`, 'v'])),
        file('x'),
      ]);
      const headers = standardBody('b', [
        {
          headers: [`Content-Disposition: form-data; name="a"`, `X-Pad: ${'p'.repeat(20_000)}`],
          content: '',
        },
        file('x'),
      ]);

      expectCode(await rejection(parse(feed(big, 'random'), ct)), 'PAYLOAD_TOO_LARGE');
      expectCode(
        await rejection(parse(feed(many, 'random'), ct, { maxFields: 10 })),
        'PAYLOAD_TOO_LARGE',
      );
      expectCode(await rejection(parse(feed(headers, 'random'), ct)), 'UPLOAD_FAILED');
    });

    it("passes on onFile's own rejection after the consumer gave up", async () => {
      const failure = new Error('disk full');

      const error = await rejection(
        parse(
          feed(standardBody('b', [file(awkwardBytes(500_000, 'b', 16))]), 'random'),
          'multipart/form-data; boundary=b',
          {
            onFile: ({ stream }) => {
              stream.destroy();
              return Promise.reject(failure);
            },
          },
        ),
      );

      expect(error).toBe(failure);
    });

    it('does not stall when onFile settles without reading the stream', async () => {
      const source = feed(standardBody('b', [file(awkwardBytes(2 * MB, 'b', 17))]), 'random');

      const result = await parseUpload(source, 'multipart/form-data; boundary=b', {
        maxFileBytes: 10 * MB,
        onFile: () => Promise.resolve('ignored'),
      });

      expect(result.fileResult).toBe('ignored');
      expect(source.readableEnded).toBe(true);
    });
  });

  it('streams a 50 MB file with backpressure and bounded buffering', async () => {
    const boundary = '----------streamingtest0123456789abcdefghij';
    const size = 50 * MB;
    const chunkSize = 64 * 1024;
    const head = Buffer.from(
      `--${boundary}\r\ncontent-disposition:form-data;name="file";filename=big file.bin\r\n\r\n`,
    );
    const trap = Buffer.from(`\r\n--${boundary.slice(0, -1)}`);
    const sent = createHash('sha256');
    let produced = 0;
    let stage: 'head' | 'file' | 'tail' | 'done' = 'head';
    const source = new Readable({
      highWaterMark: chunkSize,
      read() {
        if (stage === 'head') {
          stage = 'file';
          this.push(head);
        } else if (stage === 'file') {
          const chunk = randomBytes(Math.min(chunkSize, size - produced));
          trap.copy(chunk, Math.max(chunk.length - 20, 0), 0, Math.min(trap.length, 20));
          sent.update(chunk);
          produced += chunk.length;
          if (produced === size) {
            stage = 'tail';
          }
          this.push(chunk);
        } else if (stage === 'tail') {
          stage = 'done';
          this.push(`\r\n--${boundary}--\r\n`);
        } else {
          this.push(null);
        }
      },
    });
    let consumed = 0;
    let maxInFlight = 0;
    let maxBuffered = 0;
    const received = createHash('sha256');

    const result = await parseUpload(source, `multipart/form-data; boundary=${boundary}`, {
      maxFileBytes: 64 * MB,
      onFile: async ({ stream }) => {
        let chunks = 0;
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          // Measured before counting the chunk: a stream read may hand over all it buffered.
          maxInFlight = Math.max(maxInFlight, produced - consumed);
          maxBuffered = Math.max(maxBuffered, stream.readableLength + chunk.length);
          received.update(chunk);
          consumed += chunk.length;
          chunks += 1;
          if (chunks % 4 === 0) {
            await tick();
          }
        }
        return consumed;
      },
    });

    expect(result.fileResult).toBe(size);
    expect(result.file).toMatchObject({ filename: 'big file.bin', size });
    expect(received.digest('hex')).toBe(sent.digest('hex'));
    // Without backpressure the synchronous source would run ~50 MB ahead of the slow consumer.
    expect(maxInFlight).toBeLessThan(1 * MB);
    expect(maxBuffered).toBeLessThanOrEqual(4 * chunkSize);
  });

  it('parseBoundary accepts quoted, unquoted and parameterised boundaries', () => {
    expect(parseBoundary('multipart/form-data; boundary=abc')).toBe('abc');
    expect(parseBoundary('Multipart/Form-Data;boundary="a b:c"')).toBe('a b:c');
    expect(parseBoundary('multipart/form-data; charset=utf-8; boundary=xyz ; foo=bar')).toBe('xyz');
  });
});

// A tiny HTTP server whose handler's result is exposed as `lastResult`; closed after each test.
let server: Server | undefined;
let lastResult: Promise<Awaited<ReturnType<typeof parse>>>;

async function serve(handler: (req: IncomingMessage) => ReturnType<typeof parse>): Promise<string> {
  server = createServer((req, res) => {
    lastResult = handler(req);
    lastResult.then(
      () => res.writeHead(201).end(),
      (error: unknown) => res.writeHead(isAppError(error) ? error.statusCode : 500).end(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
}

afterEach(async () => {
  if (server === undefined) {
    return;
  }

  const closing = once(server, 'close');
  server.closeAllConnections();
  server.close();
  await closing;
  server = undefined;
});

async function postChunked(url: string, contentType: string, body: Buffer): Promise<number> {
  const req = request(url, { method: 'POST', headers: { 'content-type': contentType } });
  const random = mulberry32(99);
  for (let offset = 0; offset < body.length;) {
    const size = 1 + Math.floor(random() * 20_000);
    if (!req.write(body.subarray(offset, offset + size))) {
      await once(req, 'drain');
    }
    offset += size;
    await tick();
  }
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();

  return res.statusCode ?? 0;
}

describe('a body whose last chunk fills the file stream', () => {
  it('still ends when the consumer starts reading only after the whole body arrived', async () => {
    const data = randomBytes(2 * MB);
    const { body, contentType } = node3Body([], 'late reader.bin', data);
    // The closing delimiter arrives in the same chunk as the end of the file, and more (an
    // epilogue) follows: the body is paused for the file stream when the delimiter is parsed.
    const chunks = [body.subarray(0, MB), body.subarray(MB), Buffer.from('epilogue\r\n')];
    const parsed = await parse(Readable.from(chunks), contentType, {
      onFile: async (file) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return buffer(file.stream);
      },
    });

    expect(parsed.fileResult.equals(data)).toBe(true);
    expect(parsed.file.filename).toBe('late reader.bin');
  });
});
