import type { Outcome } from '@convertd/db';
import { deliverOutcome } from '@convertd/queue';

import type { Deps } from '../deps';

/** Publishes the events and queues the ready tasks of a committed change. */
export async function applyOutcome(
  deps: Pick<Deps, 'events' | 'dispatcher' | 'logger'>,
  outcome: Outcome,
): Promise<void> {
  await deliverOutcome(deps, outcome);
}
