// The signature of API.md §6 against its verified vectors, and the official node SDK's verify.
import fs from 'node:fs';
import path from 'node:path';

import CloudConvert from 'cloudconvert';
import { describe, expect, it } from 'vitest';

import { newSigningSecret, signPayload } from '../src/signature';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/sdk-fixtures');
const sdk = new CloudConvert('unused');

const VECTORS = [
  {
    name: 'the node/php/ruby fixture file, trailing newline included',
    body: fs.readFileSync(
      path.join(FIXTURES, 'cloudconvert-node__webhook_job_finished_payload.json'),
    ),
    secret: 'secret',
    signature: '576b653f726c85265a389532988f483b5c7d7d5f40cede5f5ddf9c3f02934f35',
  },
  {
    name: 'the real body recorded by the .NET SDK',
    body: fs.readFileSync(
      path.join(FIXTURES, 'cloudconvert-dotnet__webhook_job_created_payload.json'),
    ),
    secret: '9E1I8fQSLM7WsH1Y2Zp0uurYfhLqdERu',
    signature: '88c3103f1d64282bf963af5dd8405ef26348af25b8903e10f0c288c11f0f907b',
  },
  {
    name: 'the Python/Java test vector',
    body: Buffer.from('cloudconvert'),
    secret: '90sffs0d8fs0f9sf0',
    signature: '5c4c0691bce8a1a2af738b7073fe0627e792734813358c5f88a658819dd0a6d2',
  },
];

describe('signPayload', () => {
  it.each(VECTORS)('signs $name', ({ body, secret, signature }) => {
    expect(signPayload(secret, body)).toBe(signature);
    expect(sdk.webhooks.verify(body.toString('utf8'), signPayload(secret, body), secret)).toBe(
      true,
    );
  });

  it('signs the exact bytes: one byte more is another signature', () => {
    const body = VECTORS[0]!.body;
    const trimmed = body.subarray(0, body.length - 1);

    expect(signPayload('secret', trimmed)).not.toBe(VECTORS[0]!.signature);
    expect(sdk.webhooks.verify(trimmed.toString('utf8'), VECTORS[0]!.signature, 'secret')).toBe(
      false,
    );
  });

  it('makes new secrets of 32 url-safe characters, each different', () => {
    const secrets = new Set(Array.from({ length: 50 }, () => newSigningSecret()));

    expect(secrets.size).toBe(50);
    for (const s of secrets) {
      expect(s).toMatch(/^[A-Za-z0-9_-]{32}$/);
    }
  });
});
