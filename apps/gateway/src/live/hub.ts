import { serializeJob, serializeTask } from '@convertd/api';
import type { Config, Logger } from '@convertd/config';
import type { Db } from '@convertd/db';
import type { EventBus, TaskEvent } from '@convertd/queue';

import { urlsFor } from '../services/urls';
import { findJob, findTask } from '../services/views';
import { routeOf } from './channels';

/** One connected client, as the hub sees it (a socket.io socket in production). */
export interface Subscriber {
  readonly id: string;
  emit(event: string, channel: string, data: unknown): void;
}

/** A subscriber on one channel, with the key it authenticated with and the origin it used. */
export interface Subscription {
  subscriber: Subscriber;
  keyId: number;
  /** Origin put into the URLs it is sent (export URLs, links), as the REST API would. */
  origin: string;
}

export interface HubDeps {
  db: Db;
  logger: Logger;
  config: Config;
  urlSecret: string;
  events: EventBus;
}

/**
 * Live events of one gateway process: who listens on which channel, and the fan-out of every
 * state change the Redis event bus reports (so each gateway serves its own sockets and a change
 * made anywhere reaches all of them). Each change is loaded once and serialized once per origin
 * among its listeners, whatever their number; nothing is read when nobody listens.
 */
export class LiveHub {
  private readonly channels = new Map<string, Map<string, Subscription>>();
  private readonly bySubscriber = new Map<string, Set<string>>();
  /** Deliveries in flight per job (or standalone task), so its events arrive in order. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly onEvent = (e: TaskEvent) => this.enqueue(e);

  constructor(private readonly deps: HubDeps) {
    deps.events.on('event', this.onEvent);
  }

  add(channel: string, subscription: Subscription): void {
    let listeners = this.channels.get(channel);
    if (!listeners) {
      listeners = new Map();
      this.channels.set(channel, listeners);
    }
    listeners.set(subscription.subscriber.id, subscription);
    let mine = this.bySubscriber.get(subscription.subscriber.id);
    if (!mine) {
      mine = new Set();
      this.bySubscriber.set(subscription.subscriber.id, mine);
    }
    mine.add(channel);
  }

  remove(channel: string, subscriberId: string): void {
    const listeners = this.channels.get(channel);
    listeners?.delete(subscriberId);
    if (listeners?.size === 0) {
      this.channels.delete(channel);
    }
    const mine = this.bySubscriber.get(subscriberId);
    mine?.delete(channel);
    if (mine?.size === 0) {
      this.bySubscriber.delete(subscriberId);
    }
  }

  /** Forgets everything a subscriber listened to (it disconnected). */
  drop(subscriberId: string): void {
    for (const channel of this.bySubscriber.get(subscriberId) ?? []) {
      this.remove(channel, subscriberId);
    }
  }

  channelsOf(subscriberId: string): number {
    return this.bySubscriber.get(subscriberId)?.size ?? 0;
  }

  /** Subscriptions on one channel, or on all of them. */
  count(channel?: string): number {
    if (channel !== undefined) {
      return this.channels.get(channel)?.size ?? 0;
    }

    let n = 0;
    for (const listeners of this.channels.values()) {
      n += listeners.size;
    }
    return n;
  }

  close(): void {
    this.deps.events.off('event', this.onEvent);
    this.channels.clear();
    this.bySubscriber.clear();
  }

  private enqueue(e: TaskEvent): void {
    const { channels } = routeOf(e);
    if (!channels.some((c) => this.channels.has(c))) {
      return;
    }

    const key = e.jobId ?? e.id;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.deliver(e))
      .catch((err: unknown) => {
        this.deps.logger.warn({ err, kind: e.kind, id: e.id }, 'live event delivery failed');
      })
      .finally(() => {
        if (this.queues.get(key) === next) {
          this.queues.delete(key);
        }
      });
    this.queues.set(key, next);
  }

  private async deliver(e: TaskEvent): Promise<void> {
    const { event, channels } = routeOf(e);
    const recipients = channels.flatMap((channel) =>
      [...(this.channels.get(channel)?.values() ?? [])].map((s) => ({ channel, s })),
    );
    if (recipients.length === 0) {
      return;
    }

    const [data, validKeys] = await Promise.all([
      this.load(e),
      this.validKeys(new Set(recipients.map((r) => r.s.keyId))),
    ]);
    if (data === null) {
      // Deleted meanwhile: there is nothing left to show.
      return;
    }

    const byOrigin = new Map<string, unknown>();
    for (const { channel, s } of recipients) {
      if (!validKeys.has(s.keyId)) {
        // Revoked (or its scope withdrawn) since it subscribed.
        this.remove(channel, s.subscriber.id);
        s.subscriber.emit('subscription_error', channel, {
          code: 'UNAUTHENTICATED',
          message: 'Unauthenticated.',
        });
        continue;
      }

      let payload = byOrigin.get(s.origin);
      if (payload === undefined) {
        payload = data(s.origin);
        byOrigin.set(s.origin, payload);
      }
      s.subscriber.emit(event, channel, payload);
    }
  }

  /** Reads the changed object once; serializes it for one origin (URLs differ by origin). */
  private async load(e: TaskEvent): Promise<((origin: string) => unknown) | null> {
    const urls = (origin: string) => urlsFor(this.deps, origin);
    if (e.kind === 'job') {
      const found = await findJob(this.deps.db, e.id, e.userId);
      return found && ((origin) => ({ job: serializeJob(found.job, urls(origin), found.tasks) }));
    }

    const task = await findTask(this.deps.db, e.id, e.userId);
    return task && ((origin) => ({ task: serializeTask(task, urls(origin)) }));
  }

  private async validKeys(ids: Set<number>): Promise<Set<number>> {
    const rows = await this.deps.db.apiKey.findMany({
      where: { id: { in: [...ids] }, revokedAt: null, scopes: { has: 'task.read' } },
      select: { id: true },
    });
    return new Set(rows.map((r) => r.id));
  }
}
