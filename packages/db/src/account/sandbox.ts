// The sandbox whitelist: the MD5s of the files a user may import with a sandbox key, and the one
// check every import passes when its files are recorded (`completeTask`, or `createJob` and
// `createTask` for an inline import created ended).
import type { DbOrTx, Tx } from '../client';
import type { StoredFile } from '../graph/types';

/**
 * Imports whose content the request itself generates, which the whitelist does not cover
 * (CloudConvert lets sandbox jobs capture websites and write raw text). `import/base64` carries
 * a user's file, only encoded, so it is checked like an upload.
 */
const GENERATED_IMPORTS = new Set(['import/raw']);

export interface SandboxFileRow {
  md5: string;
  filename: string | null;
  createdAt: Date;
}

export function isMd5(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/i.test(value);
}

/** Adds (or renames) a whitelist entry. */
export async function allowSandboxFile(
  db: DbOrTx,
  userId: number,
  md5: string,
  filename: string | null = null,
): Promise<SandboxFileRow> {
  const key = md5.toLowerCase();
  return db.sandboxFile.upsert({
    where: { userId_md5: { userId, md5: key } },
    create: { userId, md5: key, filename },
    update: filename === null ? {} : { filename },
    select: { md5: true, filename: true, createdAt: true },
  });
}

/** True when the entry existed. */
export async function removeSandboxFile(db: DbOrTx, userId: number, md5: string): Promise<boolean> {
  const { count } = await db.sandboxFile.deleteMany({ where: { userId, md5: md5.toLowerCase() } });
  return count > 0;
}

export async function listSandboxFiles(
  db: DbOrTx,
  userId: number | null,
): Promise<(SandboxFileRow & { userId: number; email: string })[]> {
  const rows = await db.sandboxFile.findMany({
    where: userId === null ? {} : { userId },
    include: { user: { select: { email: true } } },
    orderBy: [{ userId: 'asc' }, { createdAt: 'asc' }, { md5: 'asc' }],
  });

  return rows.map((r) => ({
    userId: r.userId,
    email: r.user.email,
    md5: r.md5,
    filename: r.filename,
    createdAt: r.createdAt,
  }));
}

export interface SandboxRefusal {
  code: 'SANDBOX_FILE_NOT_ALLOWED';
  message: string;
  result: { files: { filename: string; md5: string | null }[] };
}

/**
 * Called where an import's files are recorded: null when they may be used, else how the task
 * ends instead (API.md §7). Only sandbox tasks of imports of user files are checked.
 */
export async function sandboxRefusal(
  tx: Tx,
  task: { id: string; operation: string },
  files: readonly StoredFile[],
): Promise<SandboxRefusal | null> {
  if (!isCheckedImport(task.operation)) {
    return null;
  }

  const rows = await tx.$queryRaw<{ sandbox: boolean; user_id: number }[]>`
    SELECT sandbox, user_id FROM tasks WHERE id = ${task.id}::uuid`;
  const row = rows[0];

  return row?.sandbox ? sandboxFileRefusal(tx, row.user_id, task.operation, files) : null;
}

/**
 * The same check for a sandbox task that is not written yet (an inline import, stored by the
 * gateway and created ended).
 */
export async function sandboxFileRefusal(
  tx: Tx,
  userId: number,
  operation: string,
  files: readonly StoredFile[],
): Promise<SandboxRefusal | null> {
  if (!isCheckedImport(operation)) {
    return null;
  }

  const md5s = files.flatMap((f) => (f.md5 ? [f.md5.toLowerCase()] : []));
  const rows = await tx.$queryRaw<{ md5: string }[]>`
    SELECT md5 FROM sandbox_files WHERE user_id = ${userId} AND md5 = ANY(${md5s}::text[])`;

  return refusalOf(files, new Set(rows.map((r) => r.md5)));
}

/** Imports of a user's file; generated inputs are not on any whitelist. */
function isCheckedImport(operation: string): boolean {
  return operation.startsWith('import/') && !GENERATED_IMPORTS.has(operation);
}

function refusalOf(files: readonly StoredFile[], allowed: Set<string>): SandboxRefusal | null {
  const refused = files.find((f) => !f.md5 || !allowed.has(f.md5.toLowerCase()));
  if (!refused) {
    return null;
  }

  return {
    code: 'SANDBOX_FILE_NOT_ALLOWED',
    message: `The file ${refused.filename} is not whitelisted for sandbox use`,
    result: { files: files.map((f) => ({ filename: f.filename, md5: f.md5 })) },
  };
}
