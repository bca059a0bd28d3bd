import { EventEmitter } from 'node:events';

import type { Redis } from 'ioredis';

/** A task or job changed state (published after the transaction that changed it committed). */
export interface TaskEvent {
  kind: 'job' | 'task';
  id: string;
  jobId: string | null;
  userId: number;
  status: string;
  event: string;
}

/** Asks the workers running these tasks to stop them (cancel, delete). */
export interface ControlMessage {
  type: 'stop';
  taskIds: string[];
}

/**
 * Events through Redis pub/sub, so that every gateway and worker hears every change. One
 * subscriber connection per process, whatever the number of listeners.
 */
export class EventBus extends EventEmitter<{ event: [TaskEvent]; control: [ControlMessage] }> {
  private readonly eventsChannel: string;
  private readonly controlChannel: string;
  private subscribed = false;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
  ) {
    super();
    this.setMaxListeners(0);
    this.eventsChannel = `${prefix}:events`;
    this.controlChannel = `${prefix}:control`;
  }

  async start(): Promise<void> {
    if (this.subscribed) {
      return;
    }

    this.subscriber.on('message', (channel: string, message: string) => {
      try {
        if (channel === this.eventsChannel) {
          this.emit('event', JSON.parse(message) as TaskEvent);
        } else if (channel === this.controlChannel) {
          this.emit('control', JSON.parse(message) as ControlMessage);
        }
      } catch {
        // A malformed message is somebody else's bug; never let it stop the subscriber.
      }
    });
    await this.subscriber.subscribe(this.eventsChannel, this.controlChannel);
    this.subscribed = true;
  }

  /** Publishes in order, in one write to Redis (a job's creation alone makes half a dozen). */
  async publish(events: readonly TaskEvent[]): Promise<void> {
    if (events.length === 0) {
      return;
    }
    const pipeline = this.publisher.pipeline();
    for (const e of events) {
      pipeline.publish(this.eventsChannel, JSON.stringify(e));
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err !== null);
    if (failed) {
      throw failed[0]!;
    }
  }

  async control(message: ControlMessage): Promise<void> {
    if (message.taskIds.length > 0) {
      await this.publisher.publish(this.controlChannel, JSON.stringify(message));
    }
  }
}
