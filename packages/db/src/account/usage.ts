// Usage per UTC day and operation, for charts: tasks that ran (started and ended), their credits
// and the time they ran. Live tasks are read from `tasks` (nothing is written on the hot path);
// a deletion first folds the tasks it removes into `usage_days`, so usage outlives them.
import { Prisma } from '../generated/prisma/client';
import type { DbOrTx, Tx } from '../client';

export interface UsageQuery {
  /** Every user when null (the operator's view). */
  userId: number | null;
  /** UTC days, inclusive: `YYYY-MM-DD`. */
  from: string;
  to: string;
  sandbox: boolean;
}

export interface UsageRow {
  userId: number;
  date: string;
  operation: string;
  tasks: number;
  credits: number;
  engineSeconds: number;
}

interface RawRow {
  user_id: number;
  day: Date;
  operation: string;
  tasks: bigint | number;
  credits: bigint | number;
  engine_ms: bigint | number | Prisma.Decimal;
}

export async function usageOf(db: DbOrTx, q: UsageQuery): Promise<UsageRow[]> {
  const user = q.userId;
  const rows = await db.$queryRaw<RawRow[]>`
    SELECT user_id, day, operation, SUM(tasks)::bigint AS tasks, SUM(credits)::bigint AS credits,
      SUM(engine_ms)::bigint AS engine_ms
    FROM (
      SELECT user_id, (ended_at AT TIME ZONE 'UTC')::date AS day, operation, count(*) AS tasks,
        COALESCE(SUM(credits), 0) AS credits,
        COALESCE(SUM(EXTRACT(EPOCH FROM ended_at - started_at) * 1000), 0) AS engine_ms
      FROM tasks
      WHERE started_at IS NOT NULL AND sandbox = ${q.sandbox}
        AND ended_at >= (${q.from}::date)::timestamp AT TIME ZONE 'UTC'
        AND ended_at < (${q.to}::date + 1)::timestamp AT TIME ZONE 'UTC'
        AND (${user}::int IS NULL OR user_id = ${user}::int)
      GROUP BY 1, 2, 3
      UNION ALL
      SELECT user_id, day, operation, tasks, credits, engine_ms FROM usage_days
      WHERE sandbox = ${q.sandbox} AND day >= ${q.from}::date AND day <= ${q.to}::date
        AND (${user}::int IS NULL OR user_id = ${user}::int)
    ) u
    GROUP BY user_id, day, operation
    ORDER BY day, user_id, operation`;

  return rows.map((r) => ({
    userId: r.user_id,
    date: r.day.toISOString().slice(0, 10),
    operation: r.operation,
    tasks: Number(r.tasks),
    credits: Number(r.credits),
    engineSeconds: Math.round(Number(r.engine_ms) / 100) / 10,
  }));
}

/**
 * Folds the usage of tasks about to be deleted (one task, a job's, or the batch the expiry
 * sweep removes) into `usage_days`.
 */
export async function archiveUsage(
  tx: Tx,
  of: { taskId: string } | { jobId: string } | { taskIds: string[]; jobIds: string[] },
): Promise<void> {
  const where =
    'taskIds' in of
      ? Prisma.sql`(id = ANY(${of.taskIds}::uuid[]) OR job_id = ANY(${of.jobIds}::uuid[]))`
      : 'taskId' in of
        ? Prisma.sql`id = ${of.taskId}::uuid`
        : Prisma.sql`job_id = ${of.jobId}::uuid`;
  await tx.$executeRaw`
    INSERT INTO usage_days (user_id, day, operation, sandbox, tasks, credits, engine_ms)
    SELECT user_id, (ended_at AT TIME ZONE 'UTC')::date, operation, sandbox, count(*),
      COALESCE(SUM(credits), 0),
      COALESCE(SUM(EXTRACT(EPOCH FROM ended_at - started_at) * 1000), 0)::bigint
    FROM tasks WHERE ${where} AND started_at IS NOT NULL AND ended_at IS NOT NULL
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (user_id, day, operation, sandbox) DO UPDATE SET
      tasks = usage_days.tasks + EXCLUDED.tasks,
      credits = usage_days.credits + EXCLUDED.credits,
      engine_ms = usage_days.engine_ms + EXCLUDED.engine_ms`;
}
