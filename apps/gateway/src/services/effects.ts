import type { Outcome } from '@convertd/db';
import { deliverOutcome } from '@convertd/queue';

import type { Deps } from '../deps';

/**
 * Publishes the events and queues the ready tasks of a committed change, and deletes the files
 * it refused to record (sandbox imports of files not whitelisted).
 */
export async function applyOutcome(
  deps: Pick<Deps, 'events' | 'dispatcher' | 'logger' | 'storage'>,
  outcome: Outcome,
): Promise<void> {
  if (outcome.discarded?.length) {
    await deps.storage.delete(outcome.discarded);
  }
  await deliverOutcome(deps, outcome);
}
