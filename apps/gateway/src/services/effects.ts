import type { Outcome } from '@convertd/db';

import type { Deps } from '../deps';

/**
 * What follows a committed state change: events out, ready tasks onto their queues. A failure here
 * loses nothing: the sweep re-queues ready tasks that never reached Redis.
 */
export async function applyOutcome(deps: Pick<Deps, 'events' | 'dispatcher' | 'logger'>, outcome: Outcome): Promise<void> {
  try {
    await deps.events.publish(outcome.changes);
  } catch (err) {
    deps.logger.warn({ err }, 'event publish failed');
  }
  try {
    await deps.dispatcher.enqueue(outcome.ready);
  } catch (err) {
    deps.logger.warn({ err, tasks: outcome.ready.length }, 'enqueue failed; the sweep will retry');
  }
}
