// A supervised pool of warm LibreOffice processes: at most `size` at once, each serving one
// conversion at a time. A process is replaced after `restartAfter` conversions, when soffice's
// memory passes `maxRssBytes`, when it crashes, and when a conversion on it passes its deadline
// (then it is killed with everything it started).
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { AppError } from '@convertd/errors';

import type { EngineLogger } from '../logger';
import { OfficeProcess, type UnoJob, type UnoReply } from './office-process';
import { UNO_HELPER_SCRIPT } from './uno-script';

export interface OfficePoolOptions {
  /** Most processes at once; also the most conversions at once. */
  size: number;
  /** Conversions a process serves before it is replaced; 0 for never. */
  restartAfter: number;
  /**
   * soffice resident memory past which a conversion is stopped (ENGINE_FAILED) and a process
   * replaced after its conversion; 0 for no limit.
   */
  maxRssBytes: number;
  /** Directory for the processes' profiles and the helper script; created if missing. */
  root: string;
  sofficeBin: string;
  python: string;
  /** The helper program `python` runs; default UNO_HELPER_SCRIPT written under `root`. */
  helperScript?: string;
  /** Time a process may take to start and connect. */
  startTimeoutMs: number;
  /** Time a quitting soffice gets before it is killed. */
  stopGraceMs: number;
  logger?: EngineLogger;
}

export interface PoolState {
  size: number;
  /** Processes started and alive. */
  live: number;
  idle: number;
  busy: number;
  /** Conversions waiting for a process. */
  waiting: number;
  /** Processes replaced since the pool started, by cause. */
  restarts: Record<'served' | 'memory' | 'crash' | 'killed', number>;
}

interface Waiter {
  resolve: (process: OfficeProcess) => void;
  reject: (err: Error) => void;
}

export class OfficePool {
  private readonly live = new Set<OfficeProcess>();
  private readonly idle: OfficeProcess[] = [];
  private readonly waiters: Waiter[] = [];
  /** Processes being started; they count against `size`. */
  private starting = 0;
  private scriptWritten: Promise<string> | undefined;
  private closed = false;
  private readonly restarts: PoolState['restarts'] = { served: 0, memory: 0, crash: 0, killed: 0 };
  /** Stops of retired processes still under way; `close` waits for them. */
  private readonly stopping = new Set<Promise<void>>();

  private logger: EngineLogger | undefined;

  constructor(private readonly options: OfficePoolOptions) {
    this.logger = options.logger;
  }

  /** Where the pool reports restarts and deaths from now on (the worker's logger). */
  useLogger(logger: EngineLogger | undefined): void {
    this.logger = logger ?? this.logger;
  }

  /** Starts every process of the pool; resolves when all are ready. */
  async warm(): Promise<void> {
    const missing = this.options.size - this.live.size - this.starting;
    const started = await Promise.allSettled(Array.from({ length: missing }, () => this.spawn()));
    for (const result of started) {
      if (result.status === 'fulfilled') {
        this.giveBack(result.value);
      }
    }
    const failure = started.find((r) => r.status === 'rejected');
    if (failure !== undefined) {
      throw failure.reason;
    }
  }

  /**
   * Converts on a free process, waiting for one until the deadline. A timeout, a cancel or a
   * crash takes the process down; the next conversion gets a new one.
   */
  async convert(job: UnoJob, deadlineMs: number, signal?: AbortSignal): Promise<UnoReply> {
    const deadlineAt = Date.now() + deadlineMs;
    const process = await this.acquire(deadlineAt, signal);
    let reply: UnoReply | undefined;
    try {
      reply = await process.convert(job, deadlineAt - Date.now(), signal, this.options.maxRssBytes);
      return reply;
    } finally {
      await this.release(process);
    }
  }

  state(): PoolState {
    return {
      size: this.options.size,
      live: this.live.size,
      idle: this.idle.length,
      busy: this.live.size - this.idle.length,
      waiting: this.waiters.length,
      restarts: { ...this.restarts },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(new AppError('ENGINE_CANCELLED', { message: 'The worker is stopping.' }));
    }
    const all = [...this.live];
    this.idle.length = 0;
    await Promise.all([...all.map((p) => this.retire(p, 'stopped')), ...[...this.stopping]]);
    await rm(join(this.options.root, 'helper'), { recursive: true, force: true });
  }

  private async acquire(deadlineAt: number, signal?: AbortSignal): Promise<OfficeProcess> {
    if (this.closed) {
      throw new AppError('ENGINE_CANCELLED', { message: 'The worker is stopping.' });
    }
    // A process that died while idle is normally gone already; skip one whose exit is on its way.
    let ready = this.idle.pop();
    while (ready !== undefined && !ready.alive) {
      this.live.delete(ready);
      ready = this.idle.pop();
    }
    if (ready !== undefined) {
      return ready;
    }

    if (this.live.size + this.starting < this.options.size) {
      return this.spawnRetrying(deadlineAt);
    }

    return new Promise<OfficeProcess>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (p) => {
          cleanup();
          resolve(p);
        },
        reject: (err) => {
          cleanup();
          reject(err);
        },
      };
      const timer = setTimeout(
        () =>
          waiter.reject(
            new AppError('ENGINE_TIMEOUT', {
              details: { engine: 'libreoffice', reason: 'no free LibreOffice before the deadline' },
            }),
          ),
        Math.max(0, deadlineAt - Date.now()),
      );
      const onAbort = () =>
        waiter.reject(new AppError('ENGINE_CANCELLED', { cause: signal?.reason }));
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) {
          this.waiters.splice(at, 1);
        }
      };
      if (signal?.aborted === true) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** After a conversion: keep the process, or replace it, and serve whoever waits. */
  private async release(process: OfficeProcess): Promise<void> {
    if (!process.alive) {
      this.live.delete(process);
      this.restarts[process.deathCause] += 1;
      this.afterExit();
      return;
    }

    const { restartAfter, maxRssBytes } = this.options;
    if (restartAfter > 0 && process.served >= restartAfter) {
      this.restarts.served += 1;
      this.background(this.retire(process, 'served'));
      this.afterExit();
      return;
    }
    if (maxRssBytes > 0) {
      const rss = await process.rssBytes();
      if (rss > maxRssBytes) {
        this.restarts.memory += 1;
        this.logger?.info(
          { engine: 'libreoffice', rssMiB: Math.round(rss / 2 ** 20) },
          'LibreOffice passed its memory limit; replacing it',
        );
        this.background(this.retire(process, 'memory'));
        this.afterExit();
        return;
      }
    }

    this.giveBack(process);
  }

  /** A process is free: the first waiter gets it, else it waits idle. */
  private giveBack(process: OfficeProcess): void {
    if (this.closed) {
      this.background(this.retire(process, 'stopped'));
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(process);
    } else {
      this.idle.push(process);
    }
  }

  /** A process left the pool: a replacement starts at once, for whoever waits or comes next. */
  private afterExit(): void {
    if (this.closed || this.live.size + this.starting >= this.options.size) {
      return;
    }
    this.spawnRetrying(Date.now() + this.options.startTimeoutMs).then(
      (p) => this.giveBack(p),
      (err: Error) => {
        const waiter = this.waiters.shift();
        if (waiter === undefined) {
          this.logger?.warn({ engine: 'libreoffice', err }, 'LibreOffice did not start');
        } else {
          waiter.reject(err);
        }
      },
    );
  }

  /**
   * A new process; one failed start (a load spike, a kill while starting) is tried again while
   * time is left.
   */
  private async spawnRetrying(deadlineAt: number): Promise<OfficeProcess> {
    try {
      return await this.spawn();
    } catch (first) {
      if (this.closed || Date.now() >= deadlineAt) {
        throw first;
      }
      this.logger?.warn({ engine: 'libreoffice', err: first }, 'LibreOffice did not start; again');
      return this.spawn();
    }
  }

  private async spawn(): Promise<OfficeProcess> {
    this.starting += 1;
    const dir = join(this.options.root, `office-${randomBytes(6).toString('hex')}`);
    const process = new OfficeProcess({
      sofficeBin: this.options.sofficeBin,
      python: this.options.python,
      helperScript: await this.helperScript().catch((err: unknown) => {
        this.starting -= 1;
        throw err;
      }),
      dir,
      startTimeoutMs: this.options.startTimeoutMs,
    });
    process.onDeath = (reason) => this.onDeath(process, reason);
    try {
      await process.start();
    } catch (err) {
      this.starting -= 1;
      await process.kill('start failed');
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    this.starting -= 1;
    this.live.add(process);
    this.logger?.debug(
      { engine: 'libreoffice', pid: process.pid, state: this.state() },
      'LibreOffice started',
    );

    return process;
  }

  /** A process died on its own or was killed; an idle one leaves the pool at once. */
  private onDeath(process: OfficeProcess, reason: string): void {
    const at = this.idle.indexOf(process);
    if (at >= 0) {
      this.idle.splice(at, 1);
      this.live.delete(process);
      this.restarts.crash += 1;
      this.logger?.warn({ engine: 'libreoffice', reason }, 'idle LibreOffice died');
      this.afterExit();
    } else if (reason !== 'stopped') {
      this.logger?.warn({ engine: 'libreoffice', reason }, 'LibreOffice died');
    }
    // Its profile may be half-written: the next process gets a new one.
    this.background(
      process.exitedAll().then(() => rm(process.dir, { recursive: true, force: true })),
    );
  }

  private async retire(process: OfficeProcess, why: string): Promise<void> {
    this.live.delete(process);
    process.onDeath = undefined;
    await process.stop(this.options.stopGraceMs);
    await rm(process.dir, { recursive: true, force: true });
    this.logger?.debug({ engine: 'libreoffice', why }, 'LibreOffice retired');
  }

  private background(work: Promise<unknown>): void {
    const tracked = work.then(
      () => undefined,
      (err: unknown) =>
        this.logger?.warn({ engine: 'libreoffice', err }, 'LibreOffice clean-up failed'),
    );
    this.stopping.add(tracked);
    void tracked.finally(() => this.stopping.delete(tracked));
  }

  private helperScript(): Promise<string> {
    const given = this.options.helperScript;
    this.scriptWritten ??= (async () => {
      if (given !== undefined) {
        return given;
      }
      const dir = join(this.options.root, 'helper');
      await mkdir(dir, { recursive: true });
      const file = join(dir, 'uno-helper.py');
      await writeFile(file, UNO_HELPER_SCRIPT);
      return file;
    })();
    return this.scriptWritten;
  }
}
