// Signing keys of signed URLs, and the jobs those URLs started (for `cache_key` reuse).
import type { DbOrTx } from './client';

/** The AAD a key's secret is sealed with (the api package's `PayloadCipher.sealText`). */
export function signingKeyAad(id: string): string {
  return `signing-key:${id}`;
}

/** A key's secret is stored sealed by the caller (the api package's `PayloadCipher.sealText`). */
export async function createSigningKey(
  db: DbOrTx,
  input: { id: string; userId: number; sealedSecret: string },
): Promise<void> {
  await db.signingKey.create({
    data: { id: input.id, userId: input.userId, secret: input.sealedSecret },
  });
}

/** An active key with its user, or null for an unknown or revoked one. */
export async function findSigningKey(db: DbOrTx, id: string) {
  const row = await db.signingKey.findUnique({ where: { id } });

  return row && !row.revokedAt ? row : null;
}

export async function revokeSigningKey(db: DbOrTx, id: string): Promise<boolean> {
  const result = await db.signingKey.updateMany({
    where: { id, revokedAt: null },
    data: { revokedAt: new Date() },
  });

  return result.count > 0;
}

export async function recordSignedJob(
  db: DbOrTx,
  input: { jobId: string; signingKeyId: string; cacheKey: string | null; jobHash: string },
): Promise<void> {
  await db.signedUrlJob.create({ data: input });
}

/**
 * Finished jobs that the same key started with the same `cache_key` and job since `since`,
 * newest first: candidates for reuse (the caller checks that their files still exist).
 */
export async function findCachedSignedJobs(
  db: DbOrTx,
  input: { signingKeyId: string; cacheKey: string; jobHash: string; since: Date },
): Promise<string[]> {
  const rows = await db.signedUrlJob.findMany({
    where: {
      signingKeyId: input.signingKeyId,
      cacheKey: input.cacheKey,
      jobHash: input.jobHash,
      job: { status: 'finished', endedAt: { gte: input.since } },
    },
    orderBy: { createdAt: 'desc' },
    take: 3,
    select: { jobId: true },
  });

  return rows.map((r) => r.jobId);
}
