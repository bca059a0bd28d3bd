// The balance side of credits: what a task costs is decided by its caller (the credit model in
// packages/api); here it is taken from the owner's balance, once, as the task finishes.
import type { Tx } from '../client';

/**
 * Charges a finishing task's owner and returns what the task cost: 0 for a sandbox task or a
 * free one. Runs in the transaction that finishes the task, so a task is charged exactly once.
 */
export async function chargeCredits(tx: Tx, taskId: string, credits: number): Promise<number> {
  if (credits <= 0) {
    return 0;
  }

  const charged = await tx.$executeRaw`
    UPDATE users u SET credits = u.credits - ${credits} FROM tasks t
    WHERE t.id = ${taskId}::uuid AND u.id = t.user_id AND NOT t.sandbox`;

  return charged > 0 ? credits : 0;
}
