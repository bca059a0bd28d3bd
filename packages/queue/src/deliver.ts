import type { Dispatcher } from './dispatcher';
import type { EventBus, TaskEvent } from './events';

interface Logger {
  warn(obj: object, msg: string): void;
}

/**
 * What follows a committed state change: events out, ready tasks onto their queues. A failure
 * here loses nothing: the sweep re-queues ready tasks that never reached Redis.
 */
export async function deliverOutcome(
  deps: { events: EventBus; dispatcher: Dispatcher; logger: Logger },
  outcome: { changes: readonly TaskEvent[]; ready: readonly { id: string; queue: string }[] },
): Promise<void> {
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
