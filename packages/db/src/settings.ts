import { randomBytes } from 'node:crypto';

import type { DbOrTx } from './client';

/** Reads a server-wide setting, creating it with `make()` the first time; first writer wins. */
export async function getOrCreateSetting(
  db: DbOrTx,
  key: string,
  make: () => string,
): Promise<string> {
  const existing = await db.setting.findUnique({ where: { key } });
  if (existing) {
    return existing.value;
  }

  await db.setting.createMany({ data: [{ key, value: make() }], skipDuplicates: true });
  const row = await db.setting.findUniqueOrThrow({ where: { key } });

  return row.value;
}

const GENERATED_KEY = 'payload_encryption_key';

/**
 * The keys of payload secrets, the sealing one first: the operator's key when given (then its
 * `previous` keys and the generated one, if an earlier run made it, so that what they sealed
 * still opens), else a key generated once and kept in `settings` (`generated`: the caller warns).
 */
export async function payloadKeys(
  db: DbOrTx,
  given: Buffer | undefined,
  previous: readonly Buffer[] = [],
): Promise<{ keys: Buffer[]; generated: boolean }> {
  if (given) {
    const old = await db.setting.findUnique({ where: { key: GENERATED_KEY } });
    const keys = [given, ...previous, ...(old ? [Buffer.from(old.value, 'hex')] : [])];
    return { keys, generated: false };
  }

  const made = await getOrCreateSetting(db, GENERATED_KEY, () => randomBytes(32).toString('hex'));

  return { keys: [Buffer.from(made, 'hex'), ...previous], generated: true };
}
