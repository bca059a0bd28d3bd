import type { EventBus } from '@convertd/queue';

/** How often every waiter re-reads its object, in case a pub/sub message was lost. */
const SAFETY_RECHECK_MS = 30_000;

/**
 * Blocks sync-API requests until a job or task ends. Waiting is driven by the one pub/sub
 * subscription of the process: a waiter costs a map entry and re-reads the database only when an
 * event names its object (plus one shared safety timer for all of them).
 */
export class Waiters {
  private readonly listeners = new Map<string, Set<() => void>>();
  /** Reads in flight by key: waiters woken together by one event share one database read. */
  private readonly reads = new Map<string, { generation: number; promise: Promise<unknown> }>();
  /** Events seen per object while someone waits on it; a read is only shared forward in time. */
  private readonly generations = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(events: EventBus) {
    events.on('event', (e) => {
      this.notify(e.id);
      if (e.jobId !== null && e.jobId !== e.id) {
        this.notify(e.jobId);
      }
    });
    this.timer = setInterval(() => {
      for (const id of this.listeners.keys()) {
        this.notify(id);
      }
    }, SAFETY_RECHECK_MS);
    this.timer.unref();
  }

  get size(): number {
    let n = 0;
    for (const set of this.listeners.values()) {
      n += set.size;
    }
    return n;
  }

  /**
   * Re-runs `load` each time `id` changes until it returns something for which `done` holds.
   * Resolves null when `signal` aborts (the client went away) or `load` finds nothing. Waiters
   * with the same `readKey` (same object, same user) share each read.
   */
  async wait<T>(
    id: string,
    readKey: string,
    load: () => Promise<T | null>,
    done: (value: T) => boolean,
    signal: AbortSignal,
  ): Promise<T | null> {
    for (;;) {
      let wake!: () => void;
      const changed = new Promise<void>((resolve) => {
        wake = resolve;
      });
      this.add(id, wake);
      try {
        // Registered before the read, so a change between the read and the wait is not missed.
        const value = await this.shared(id, readKey, load);
        // Shutting down: answer with what there is rather than hold the server open.
        if (value === null || done(value) || signal.aborted || this.closed) {
          return signal.aborted ? null : value;
        }

        const onAbort = () => wake();
        signal.addEventListener('abort', onAbort, { once: true });
        await changed;
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) {
          return null;
        }
      } finally {
        this.remove(id, wake);
      }
    }
  }

  /**
   * Joins a read of `key` that started after the last event about `id` (so after this waiter
   * registered, or no change happened since), or starts one.
   */
  private shared<T>(id: string, key: string, load: () => Promise<T>): Promise<T> {
    const generation = this.generations.get(id) ?? 0;
    const current = this.reads.get(key);
    if (current && current.generation >= generation) {
      return current.promise as Promise<T>;
    }

    const promise = load().finally(() => {
      if (this.reads.get(key)?.promise === promise) {
        this.reads.delete(key);
      }
    });
    this.reads.set(key, { generation, promise });

    return promise;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const id of [...this.listeners.keys()]) {
      this.notify(id);
    }
  }

  private notify(id: string): void {
    if (this.listeners.has(id)) {
      this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
    }
    for (const wake of this.listeners.get(id) ?? []) {
      wake();
    }
  }

  private add(id: string, wake: () => void): void {
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(wake);
  }

  private remove(id: string, wake: () => void): void {
    const set = this.listeners.get(id);
    set?.delete(wake);
    if (set?.size === 0) {
      this.listeners.delete(id);
      this.generations.delete(id);
    }
  }
}
