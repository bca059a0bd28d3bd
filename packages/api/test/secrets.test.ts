import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { maskSecrets, PayloadCipher, SECRET_MASK, secretFieldsOf } from '../src/index';

const CASES: [string, Record<string, unknown>][] = [
  [
    'import/url',
    { url: 'https://x.test/a', headers: { Authorization: 'Bearer h-1', 'X-A': 'h-2' } },
  ],
  [
    'import/s3',
    { bucket: 'b', access_key_id: 'AKIA-1', secret_access_key: 's3-1', session_token: 't-1' },
  ],
  [
    'export/s3',
    { bucket: 'b', access_key_id: 'AKIA-2', secret_access_key: 's3-2', session_token: 't-2' },
  ],
  ['import/azure/blob', { container: 'c', storage_access_key: 'az-1', sas_token: 'sas-1' }],
  ['export/azure/blob', { container: 'c', storage_access_key: 'az-2', sas_token: 'sas-2' }],
  ['import/google-cloud-storage', { bucket: 'b', client_email: 'a@b', private_key: 'gcs-1' }],
  ['export/google-cloud-storage', { bucket: 'b', client_email: 'a@b', private_key: 'gcs-2' }],
  ['import/openstack', { username: 'u', password: 'os-1' }],
  ['export/openstack', { username: 'u', password: 'os-2' }],
  ['import/sftp', { host: 'h', port: 22, password: 'sftp-1', private_key: 'key-1' }],
  ['export/sftp', { host: 'h', port: '22', password: 'sftp-2', private_key: 'key-2' }],
  ['convert', { output_format: 'pdf', password: 'doc-1' }],
  ['pdf/encrypt', { set_password: 'enc-1', set_owner_password: 'enc-2', allow_print: 'full' }],
  ['pdf/decrypt', { password: 'dec-1' }],
  ['capture-website', { url: 'https://x.test', headers: { Cookie: 'c-1' } }],
];

/** Every string value of a payload's secret fields, one level into objects. */
function secretsOf(operation: string, payload: Record<string, unknown>): string[] {
  return secretFieldsOf(operation).flatMap((field) => {
    const value = payload[field];
    if (value !== null && typeof value === 'object') {
      return Object.values(value).map(String);
    }
    return typeof value === 'string' || typeof value === 'number' ? [String(value)] : [];
  });
}

describe(PayloadCipher.name, () => {
  const cipher = new PayloadCipher([randomBytes(32)]);

  it.each(CASES)('%s: seals every secret field and opens it to the value sent', (op, payload) => {
    const secrets = secretsOf(op, payload);
    expect(secrets.length).toBeGreaterThan(0);

    const sealed = cipher.seal(op, 7, payload);
    const text = JSON.stringify(sealed);
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
    }
    expect(cipher.open(op, 7, sealed)).toEqual(payload);
  });

  it('keeps other fields and value types as they were', () => {
    const sealed = cipher.seal('import/sftp', 7, { host: 'h', port: 22, password: 'p' });
    expect(sealed.host).toBe('h');
    expect(sealed.port).toBe(22);
    expect(cipher.open('import/sftp', 7, sealed).port).toBe(22);
  });

  it('leaves sealed values alone when sealing again (retries copy stored payloads)', () => {
    const once = cipher.seal('pdf/decrypt', 7, { password: 'x' });
    expect(cipher.seal('pdf/decrypt', 7, once)).toEqual(once);
  });

  it('does not open a value moved to another user or another field', () => {
    const sealed = cipher.seal('import/sftp', 7, { password: 'p', private_key: 'k' });
    expect(() => cipher.open('import/sftp', 8, sealed)).toThrow(
      expect.objectContaining({ code: 'SECRETS_UNREADABLE' }),
    );
    const swapped = { password: sealed.private_key };
    expect(() => cipher.open('import/sftp', 7, swapped)).toThrow(
      expect.objectContaining({ code: 'SECRETS_UNREADABLE' }),
    );
  });

  it('opens with an older key listed after the sealing one, and not without it', () => {
    const old = randomBytes(32);
    const sealed = new PayloadCipher([old]).seal('pdf/decrypt', 1, { password: 'x' });
    expect(new PayloadCipher([randomBytes(32), old]).open('pdf/decrypt', 1, sealed)).toEqual({
      password: 'x',
    });
    expect(() => new PayloadCipher([randomBytes(32)]).open('pdf/decrypt', 1, sealed)).toThrow(
      expect.objectContaining({ code: 'SECRETS_UNREADABLE' }),
    );
  });
});

describe(maskSecrets.name, () => {
  it.each(CASES)('%s: shows each secret as the mask, keys and header names kept', (op, payload) => {
    const shown = maskSecrets(op, payload) as Record<string, unknown>;
    expect(Object.keys(shown)).toEqual(Object.keys(payload));
    const text = JSON.stringify(shown);
    for (const secret of secretsOf(op, payload)) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain(SECRET_MASK);
  });

  it('masks sealed values too, and leaves operations without secrets untouched', () => {
    const cipher = new PayloadCipher([randomBytes(32)]);
    const sealed = cipher.seal('import/url', 1, { url: 'u', headers: { A: 'b' } });
    expect(maskSecrets('import/url', sealed)).toEqual({ url: 'u', headers: { A: SECRET_MASK } });
    expect(maskSecrets('export/url', { input: ['a'], password: 'x' })).toEqual({
      input: ['a'],
      password: 'x',
    });
  });
});
