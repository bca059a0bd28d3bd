// `sandbox allow|list|remove` (the whitelist of files sandbox keys may import) and `usage`.
import {
  allowSandboxFile,
  isMd5,
  listSandboxFiles,
  removeSandboxFile,
  usageOf,
  type Db,
} from '@convertd/db';

export class UsageError extends Error {}

export interface AccountOptions {
  email?: string;
  md5?: string;
  name?: string;
  from?: string;
  to?: string;
  sandbox?: boolean;
}

export async function sandboxCommand(
  db: Db,
  command: string | undefined,
  values: AccountOptions,
): Promise<void> {
  switch (command) {
    case 'allow': {
      const user = await userOf(db, values.email);
      const md5 = md5Of(values.md5);
      await allowSandboxFile(db, user.id, md5, values.name ?? null);
      console.log(`sandbox file ${md5.toLowerCase()} allowed for ${user.email}`);
      return;
    }
    case 'remove': {
      const user = await userOf(db, values.email);
      const md5 = md5Of(values.md5);
      if (!(await removeSandboxFile(db, user.id, md5))) {
        throw new UsageError(`${md5} is not on the sandbox whitelist of ${user.email}`);
      }
      console.log(`sandbox file ${md5.toLowerCase()} removed for ${user.email}`);
      return;
    }
    case 'list': {
      const user = values.email ? await userOf(db, values.email) : null;
      for (const row of await listSandboxFiles(db, user?.id ?? null)) {
        console.log(
          `${row.email}\t${row.md5}\t${row.filename ?? ''}\t${row.createdAt.toISOString()}`,
        );
      }
      return;
    }
    case undefined:
    default:
      throw new UsageError(`unknown command: sandbox ${command ?? ''}`);
  }
}

/** Tab-separated usage per day, user and operation (UTC days; the last 30 by default). */
export async function usageCommand(db: Db, values: AccountOptions): Promise<void> {
  const user = values.email ? await userOf(db, values.email) : null;
  const to = dayOf(values.to, '--to') ?? new Date().toISOString().slice(0, 10);
  const from =
    dayOf(values.from, '--from') ??
    new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
  const rows = await usageOf(db, {
    userId: user?.id ?? null,
    from,
    to,
    sandbox: values.sandbox ?? false,
  });
  const emails = new Map<number, string>(
    (
      await db.user.findMany({
        where: { id: { in: [...new Set(rows.map((r) => r.userId))] } },
        select: { id: true, email: true },
      })
    ).map((u) => [u.id, u.email]),
  );
  console.log('date\temail\toperation\ttasks\tcredits\tengine_seconds');
  for (const r of rows) {
    console.log(
      `${r.date}\t${emails.get(r.userId) ?? r.userId}\t${r.operation}\t${r.tasks}\t${r.credits}\t${r.engineSeconds}`,
    );
  }
}

async function userOf(db: Db, email: string | undefined) {
  if (!email) {
    throw new UsageError('--email is required');
  }
  const user = await db.user.findUnique({ where: { email } });
  if (!user) {
    throw new UsageError(`no user with email ${email}`);
  }

  return user;
}

function md5Of(value: string | undefined): string {
  if (!isMd5(value)) {
    throw new UsageError('--md5 must be the 32 hexadecimal digits of an MD5 hash');
  }

  return value;
}

function dayOf(value: string | undefined, name: string): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  const date = new Date(`${value}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(value) ||
    Number.isNaN(date.getTime()) ||
    date.toISOString().slice(0, 10) !== value
  ) {
    throw new UsageError(`${name} must be a day such as 2026-12-31`);
  }

  return value;
}
