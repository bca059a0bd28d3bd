import { createHash, randomBytes } from 'node:crypto';

import type { DbOrTx } from './client';

export const SCOPES = [
  'user.read',
  'user.write',
  'task.read',
  'task.write',
  'webhook.read',
  'webhook.write',
] as const;
export type Scope = (typeof SCOPES)[number];

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new random key: opaque to every SDK, 43 url-safe characters after the prefix. */
export function generateApiKey(): string {
  return `cvd_${randomBytes(32).toString('base64url')}`;
}

export interface CreatedKey {
  id: number;
  key: string;
}

export async function createApiKey(
  db: DbOrTx,
  input: {
    userId: number;
    scopes: readonly string[];
    sandbox?: boolean;
    name?: string;
    key?: string;
  },
): Promise<CreatedKey> {
  const key = input.key ?? generateApiKey();
  const row = await db.apiKey.create({
    data: {
      userId: input.userId,
      scopes: [...input.scopes],
      sandbox: input.sandbox ?? false,
      name: input.name ?? null,
      prefix: key.slice(0, 10),
      hash: hashApiKey(key),
    },
  });

  return { id: row.id, key };
}

export interface FoundApiKey {
  id: number;
  userId: number;
  scopes: string[];
  sandbox: boolean;
  /** The owner's credit balance now. */
  credits: number;
}

/**
 * The key's owner, scopes and the owner's balance, or null for an unknown or revoked key. Every
 * authenticated request asks this: one statement, without Prisma's query building.
 */
export async function findApiKey(db: DbOrTx, key: string): Promise<FoundApiKey | null> {
  const rows = await db.$queryRaw<
    { id: number; user_id: number; scopes: string[]; sandbox: boolean; credits: number }[]
  >`SELECT k.id, k.user_id, k.scopes, k.sandbox, u.credits
    FROM api_keys k JOIN users u ON u.id = k.user_id
    WHERE k.hash = ${hashApiKey(key)} AND k.revoked_at IS NULL`;
  const row = rows[0];

  return row
    ? {
        id: row.id,
        userId: row.user_id,
        scopes: row.scopes,
        sandbox: row.sandbox,
        credits: row.credits,
      }
    : null;
}

/** Makes sure a user owns exactly this key with every scope (CONVERTD_BOOTSTRAP_API_KEY). */
export async function ensureBootstrapKey(db: DbOrTx, key: string, credits: number): Promise<void> {
  const existing = await db.apiKey.findUnique({ where: { hash: hashApiKey(key) } });
  if (existing) {
    if (existing.revokedAt || existing.scopes.length !== SCOPES.length) {
      await db.apiKey.update({
        where: { id: existing.id },
        data: { revokedAt: null, scopes: [...SCOPES] },
      });
    }
    return;
  }

  const user = await db.user.upsert({
    where: { email: 'admin@localhost' },
    update: {},
    create: { email: 'admin@localhost', username: 'admin', credits },
  });
  await createApiKey(db, { userId: user.id, scopes: SCOPES, name: 'bootstrap', key });
}
