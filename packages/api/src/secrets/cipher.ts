// AES-256-GCM (node:crypto) for the secret fields of task payloads. A sealed value is the string
// `cvd1.<key id>.<iv | tag | ciphertext in base64url>`, bound to its user and field (the AAD), so
// a ciphertext moved to another user or field does not open.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

import { AppError } from '@convertd/errors';

import { isPlainObject, secretFieldsOf } from './fields';

const PREFIX = 'cvd1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

type Payload = Record<string, unknown>;

/** Seals secret fields when a task is written; opens them where a worker runs it. */
export class PayloadCipher {
  private readonly sealing: { id: string; key: Buffer };
  private readonly byId: Map<string, Buffer>;

  /** The first key seals; every key opens (values sealed before the operator set a new one). */
  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0 || keys.some((k) => k.length !== 32)) {
      throw new Error('PayloadCipher needs 32-byte keys');
    }
    this.byId = new Map(keys.map((key) => [keyIdOf(key), key]));
    this.sealing = { id: keyIdOf(keys[0]!), key: keys[0]! };
  }

  seal(operation: string, userId: number, payload: Payload): Payload {
    return this.map(operation, payload, (value, aad) =>
      isSealed(value) ? value : this.sealValue(value, `${userId}:${aad}`),
    );
  }

  /** The payload as the user sent it. A value that does not open fails the task. */
  open(operation: string, userId: number, payload: Payload): Payload {
    return this.map(operation, payload, (value, aad) =>
      isSealed(value) ? this.openValue(value, `${userId}:${aad}`) : value,
    );
  }

  /** Seals one string that is not part of a payload (a signing key's secret). */
  sealText(value: string, aad: string): string {
    return this.sealValue(value, aad);
  }

  openText(value: string, aad: string): string {
    const opened = isSealed(value) ? this.openValue(value, aad) : value;
    if (typeof opened !== 'string') {
      throw unreadable('it is not text');
    }

    return opened;
  }

  private map(
    operation: string,
    payload: Payload,
    fn: (value: unknown, aad: string) => unknown,
  ): Payload {
    const copy = { ...payload };
    for (const field of secretFieldsOf(operation)) {
      const value = copy[field];
      if (value === undefined || value === null) {
        continue;
      }
      copy[field] = isPlainObject(value)
        ? Object.fromEntries(
            Object.entries(value).map(([name, v]) => [name, fn(v, `${field}.${name}`)]),
          )
        : fn(value, field);
    }

    return copy;
  }

  private sealValue(value: unknown, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealing.key, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');

    return `${PREFIX}${this.sealing.id}.${sealed}`;
  }

  private openValue(value: string, aad: string): unknown {
    const [, id = '', data = ''] = value.split('.');
    const key = this.byId.get(id);
    if (!key) {
      throw unreadable('it was encrypted with another key');
    }
    const raw = Buffer.from(data, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
      return JSON.parse(plain.toString('utf8'));
    } catch {
      throw unreadable('it does not decrypt');
    }
  }
}

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

function unreadable(reason: string): AppError {
  return new AppError('SECRETS_UNREADABLE', { details: { reason } });
}
