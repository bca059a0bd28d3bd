// Object keys of export/s3, and the messages of S3 failures that s3rver cannot produce (it checks
// no signatures and no permissions): built from errors shaped as the AWS SDK throws them.
import { AppError } from '@convertd/errors';
import { describe, expect, it } from 'vitest';

import { s3Failure } from '../src/operations/s3/client';
import { objectKeys } from '../src/operations/s3/keys';

const files = ['a.pdf', 'b.pdf', 'c.pdf'];

describe('objectKeys', () => {
  it('uses a key as it is for one file, and %d, %02d and %s for several', () => {
    expect(objectKeys({ key: 'out/report.pdf', keyPrefix: undefined }, ['x.pdf'])).toEqual([
      'out/report.pdf',
    ]);
    expect(objectKeys({ key: 'p-%d.pdf', keyPrefix: undefined }, files)).toEqual([
      'p-1.pdf',
      'p-2.pdf',
      'p-3.pdf',
    ]);
    expect(objectKeys({ key: 'x/%03d-%s', keyPrefix: undefined }, files)).toEqual([
      'x/001-a.pdf',
      'x/002-b.pdf',
      'x/003-c.pdf',
    ]);
  });

  it('numbers a plain key per file, and never gives two files one key', () => {
    expect(objectKeys({ key: 'dir.v2/out.pdf', keyPrefix: undefined }, files)).toEqual([
      'dir.v2/out-1.pdf',
      'dir.v2/out-2.pdf',
      'dir.v2/out-3.pdf',
    ]);
    expect(objectKeys({ key: undefined, keyPrefix: 'in/' }, ['a.pdf', 'a.pdf'])).toEqual([
      'in/a.pdf',
      'in/a-2.pdf',
    ]);
  });
});

function sdkError(name: string, status: number) {
  return Object.assign(new Error(`${name}: SECRET-ish server text`), {
    name,
    $metadata: { httpStatusCode: status },
  });
}

describe('s3Failure', () => {
  const at = { direction: 'export' as const, bucket: 'bkt', host: 's3.example.com', key: 'k.pdf' };

  it('names the remote problem for what AWS answers', () => {
    const cases: [string, number, string][] = [
      ['AccessDenied', 403, 'Access to the key k.pdf in the bucket bkt was denied.'],
      [
        'SignatureDoesNotMatch',
        403,
        'The S3 service refused the secret access key (the signature does not match).',
      ],
      ['ExpiredToken', 400, 'The S3 service refused the session token (invalid or expired).'],
      ['PermanentRedirect', 301, 'The bucket bkt is not in the region given.'],
      ['Forbidden', 403, 'Access to the key k.pdf in the bucket bkt was denied.'],
      ['InternalError', 500, 'The S3 service answered HTTP 500 (InternalError).'],
    ];
    for (const [name, status, message] of cases) {
      const failure = s3Failure(sdkError(name, status), at);
      expect(failure.code).toBe('EXPORT_FAILED');
      expect(failure.message).toBe(message);
      expect(failure.message).not.toContain('SECRET');
    }
  });

  it('tells socket failures by their code and keeps the reason of a deadline', () => {
    const reset = Object.assign(new Error('x'), { code: 'ECONNRESET' });
    expect(s3Failure(reset, { ...at, direction: 'import' })).toMatchObject({
      code: 'IMPORT_FAILED',
      message: 'The S3 endpoint s3.example.com closed the connection.',
    });
    const controller = new AbortController();
    controller.abort(new AppError('ENGINE_TIMEOUT'));
    // The runner's reason (its deadline) wins over whatever the SDK threw on the way out.
    expect(s3Failure(new Error('aborted'), { ...at, signal: controller.signal })).toMatchObject({
      code: 'ENGINE_TIMEOUT',
    });
  });
});
