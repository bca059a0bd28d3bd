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
