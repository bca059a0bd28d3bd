// One warm LibreOffice: a listening soffice.bin on its own profile, and the UNO helper (LibreOffice's
// Python) that drives it over a pipe. Both are children of this process, each in its own process
// group, so a kill reaches everything they started and this process reaps them (no zombies).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { AppError } from '@convertd/errors';

import { signalGroup, trackGroup, untrackGroup } from '../process-group';
import { TailBuffer } from '../tail-buffer';
import { installationUrl, ipcPipePaths } from './profile';

/** soffice.bin asks to be started again after it set up a new profile (oosplash would do it). */
const EXIT_RESTART_REQUESTED = 81;
const STDERR_CAP_BYTES = 8 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;
const MEMORY_POLL_MS = 250;

export interface OfficeProcessOptions {
  /** soffice.bin, started directly so that it is our child. */
  sofficeBin: string;
  /** A Python with the `uno` module (LibreOffice's: /usr/bin/python3 on Debian). */
  python: string;
  /** The helper script (UNO_HELPER_SCRIPT written to disk). */
  helperScript: string;
  /** An empty directory of this process: profile, HOME and TMPDIR go here. */
  dir: string;
  startTimeoutMs: number;
}

/** One conversion, with file URLs; see UNO_HELPER_SCRIPT for the fields. */
export interface UnoJob {
  input: string;
  output: string;
  filter: string;
  filterOptions?: string;
  filterData?: Record<string, unknown>;
  importFilter?: string;
  password?: string;
  /** A document service to load into without a frame, e.g. com.sun.star.text.TextDocument. */
  frameless?: string;
  /** Accept the document's tracked changes before it is stored. */
  acceptChanges?: boolean;
}

export type UnoReply =
  { ok: true } | { ok: false; stage: 'load' | 'store' | 'bridge'; error: string };

type Pending = {
  resolve: (reply: UnoReply) => void;
  reject: (err: AppError) => void;
};

export class OfficeProcess {
  /** Conversions this process finished, whatever their outcome. */
  served = 0;
  private soffice: ChildProcess | undefined;
  private helper: ChildProcess | undefined;
  private readonly exited: Promise<void>[] = [];
  private readonly stderr = new TailBuffer(STDERR_CAP_BYTES);
  private readonly pipe = `convertd-${randomBytes(6).toString('hex')}`;
  private lineBuffer = '';
  private pending: Pending | undefined;
  private deadReason: string | undefined;
  /** Called once when either child exits on its own, or when the process is killed. */
  onDeath: ((reason: string) => void) | undefined;
  /** Why it died: `crash` when soffice or the helper ended on their own, else `killed`. */
  deathCause: 'crash' | 'killed' = 'killed';

  constructor(private readonly options: OfficeProcessOptions) {}

  get dir(): string {
    return this.options.dir;
  }

  /** Resolves once both children have exited. */
  exitedAll(): Promise<void> {
    return Promise.all(this.exited).then(() => undefined);
  }

  get alive(): boolean {
    return this.deadReason === undefined;
  }

  /** soffice.bin's pid, e.g. for its memory. */
  get pid(): number | undefined {
    return this.soffice?.pid;
  }

  get stderrTail(): string {
    return this.stderr.text(4096);
  }

  /** Starts soffice and the helper; resolves once the helper is connected. */
  async start(): Promise<void> {
    const deadline = Date.now() + this.options.startTimeoutMs;
    await mkdir(join(this.options.dir, 'tmp'), { recursive: true });
    if (!existsSync(this.profileDir)) {
      await hardenProfile(this.profileDir);
      await this.initProfile(deadline);
    }

    const soffice = this.spawnChild(this.options.sofficeBin, [
      ...this.sofficeArgs(),
      `--accept=pipe,name=${this.pipe};urp;StarOffice.ComponentContext`,
    ]);
    this.soffice = soffice;
    soffice.once('exit', (code, sig) => this.onChildExit(`soffice exited (${sig ?? code})`));
    const helper = this.spawnChild(this.options.python, [this.options.helperScript], true);
    this.helper = helper;
    helper.once('exit', (code, sig) => this.onChildExit(`UNO helper exited (${sig ?? code})`));
    helper.stdout!.setEncoding('utf8');
    helper.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    helper.stdin!.on('error', () => undefined);
    const ready = this.nextReply(deadline - Date.now(), 'start');
    this.send({ pipe: this.pipe, startSec: Math.max(1, (deadline - Date.now()) / 1000) });
    await ready.catch((err: unknown) => {
      throw err instanceof AppError && err.code === 'ENGINE_FAILED'
        ? err
        : this.startError(this.deadReason ?? 'the UNO helper did not connect');
    });
  }

  /**
   * Runs one conversion. Rejects with ENGINE_TIMEOUT at the deadline and ENGINE_CANCELLED on
   * abort (both after killing the process), ENGINE_CRASHED when soffice dies under it.
   */
  async convert(
    job: UnoJob,
    deadlineMs: number,
    signal?: AbortSignal,
    /** soffice memory past which the conversion is stopped; 0 for no limit. */
    maxRssBytes = 0,
  ): Promise<UnoReply> {
    if (!this.alive) {
      throw new AppError('ENGINE_CRASHED', { details: { engine: 'libreoffice', reason: 'dead' } });
    }

    const reply = this.nextReply(deadlineMs, 'convert', signal);
    this.send(job);
    const watch = maxRssBytes > 0 ? this.watchMemory(maxRssBytes) : undefined;
    try {
      const answer = await reply;
      if (!answer.ok && answer.stage === 'bridge') {
        // The helper lost soffice: the pair is done for, whether or not its exit was seen yet.
        this.deathCause = 'crash';
        await this.kill('soffice went away during a conversion');
      }
      return answer;
    } finally {
      clearInterval(watch);
      this.served += 1;
    }
  }

  /** Stops the conversion under way once soffice holds more than `limit` bytes. */
  private watchMemory(limit: number): NodeJS.Timeout {
    const timer = setInterval(() => {
      void this.rssBytes().then((rss) => {
        const pending = this.pending;
        if (rss <= limit || pending === undefined || !this.alive) {
          return;
        }
        clearInterval(timer);
        void this.kill('over its memory limit');
        pending.reject(
          new AppError('ENGINE_FAILED', {
            message: `The document needs more memory than this server allows for one conversion (${Math.round(limit / 2 ** 20)} MiB).`,
            details: {
              engine: 'libreoffice',
              reason: 'memory limit',
              rssMiB: Math.round(rss / 2 ** 20),
            },
          }),
        );
      });
    }, MEMORY_POLL_MS);
    return timer;
  }

  /** Asks soffice to quit, then kills what is left after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.alive && this.helper && this.pending === undefined) {
      const done = this.nextReply(graceMs, 'stop').catch(() => undefined);
      this.send({ terminate: true });
      await done;
      this.helper.stdin?.end();
      await Promise.race([Promise.all(this.exited), delay(graceMs)]);
    }

    await this.kill('stopped');
  }

  /** SIGKILLs both process groups and waits until they are gone; removes their pipes. */
  async kill(reason: string): Promise<void> {
    this.markDead(reason);
    // A group outlives its leader while anything it started lives: signal it even when the
    // leader is gone, so nothing soffice or the helper left behind survives them.
    const groups = [this.helper?.pid, this.soffice?.pid].filter((p) => p !== undefined);
    for (const pgid of groups) {
      signalGroup(pgid, 'SIGKILL');
    }
    await Promise.all(this.exited);
    for (const pgid of groups) {
      untrackGroup(pgid);
    }
    const uid = process.getuid?.() ?? 0;
    await Promise.all(
      [...ipcPipePaths(this.profileDir), join('/tmp', `OSL_PIPE_${uid}_${this.pipe}`)].map((p) =>
        rm(p, { force: true }),
      ),
    );
  }

  /** Resident memory of soffice.bin in bytes, or 0 when it is gone. */
  async rssBytes(): Promise<number> {
    const pid = this.soffice?.pid;
    if (pid === undefined || !this.alive) {
      return 0;
    }
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
      return kb === undefined ? 0 : Number(kb) * 1024;
    } catch {
      return 0;
    }
  }

  private get profileDir(): string {
    return join(this.options.dir, 'profile');
  }

  /**
   * A new profile makes soffice.bin set it up and exit 81, asking to be started again (oosplash
   * would do that); run it to the end once, so that the listening start serves at once.
   */
  private async initProfile(deadline: number): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const child = this.spawnChild(this.options.sofficeBin, [
        ...this.sofficeArgs(),
        '--terminate_after_init',
      ]);
      const code = await new Promise<number | string>((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
        child.once('exit', (c, sig) => {
          clearTimeout(timer);
          resolve(c ?? sig ?? -1);
        });
        child.once('error', (err) => {
          clearTimeout(timer);
          resolve(err.message);
        });
      });
      if (code === 'timeout') {
        signalGroup(child.pid!, 'SIGKILL');
        throw this.startError('setting up the profile took too long');
      }
      if (child.pid !== undefined) {
        untrackGroup(child.pid);
      }
      if (code === 0) {
        await hardenProfile(this.profileDir);
        return;
      }
      if (code !== EXIT_RESTART_REQUESTED) {
        throw this.startError(`soffice exited with ${code} while setting up its profile`);
      }
    }
    throw this.startError('soffice kept asking to be restarted');
  }

  private sofficeArgs(): string[] {
    return [
      `-env:UserInstallation=${installationUrl(this.profileDir)}`,
      '--headless',
      '--invisible',
      '--norestore',
      '--nologo',
      '--nodefault',
      '--nolockcheck',
    ];
  }

  private spawnChild(file: string, args: string[], piped = false): ChildProcess {
    const { dir } = this.options;
    const child = spawn(file, args, {
      cwd: dir,
      // TODO(#7): sandbox soffice (no network, read-only file system outside its directory).
      env: sofficeEnv(dir),
      detached: true,
      stdio: piped ? ['pipe', 'pipe', 'pipe'] : ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    child.on('error', (err) => this.onChildExit(`${file} could not run: ${err.message}`));
    if (child.pid !== undefined) {
      trackGroup(child.pid);
    }
    this.exited.push(
      new Promise((resolve) => {
        if (child.pid === undefined) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
      }),
    );
    return child;
  }

  private send(message: object): void {
    this.helper?.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  private onStdout(chunk: string): void {
    this.lineBuffer += chunk;
    let newline: number;
    while ((newline = this.lineBuffer.indexOf('\n')) >= 0) {
      const line = this.lineBuffer.slice(0, newline);
      this.lineBuffer = this.lineBuffer.slice(newline + 1);
      const pending = this.pending;
      this.pending = undefined;
      if (pending === undefined) {
        continue;
      }
      let reply: UnoReply;
      try {
        reply = JSON.parse(line) as UnoReply;
      } catch {
        // Out of step with its helper: the process cannot be trusted with another conversion.
        const reason = 'the UNO helper wrote something that is not JSON';
        this.deathCause = 'crash';
        void this.kill(reason);
        pending.reject(this.crashError(reason));
        return;
      }
      pending.resolve(reply);
    }
  }

  private nextReply(
    timeoutMs: number,
    phase: 'start' | 'convert' | 'stop',
    signal?: AbortSignal,
  ): Promise<UnoReply> {
    if (!this.alive) {
      return Promise.reject(this.crashError(this.deadReason ?? 'dead'));
    }

    return new Promise<UnoReply>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          finish();
          const err =
            phase === 'start'
              ? this.startError('LibreOffice did not start in time')
              : new AppError('ENGINE_TIMEOUT', {
                  details: { engine: 'libreoffice', reason: `no answer in ${timeoutMs} ms` },
                });
          void this.kill(phase === 'start' ? 'start timed out' : 'timed out').then(() =>
            reject(err),
          );
        },
        Math.min(Math.max(0, timeoutMs), MAX_TIMER_MS),
      );
      const onAbort = () => {
        finish();
        void this.kill('cancelled').then(() =>
          reject(new AppError('ENGINE_CANCELLED', { cause: signal?.reason })),
        );
      };
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending = undefined;
      };
      this.pending = {
        resolve: (reply) => {
          finish();
          resolve(reply);
        },
        reject: (err) => {
          finish();
          reject(err);
        },
      };
      if (signal?.aborted === true) {
        onAbort();
      } else {
        signal?.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  private onChildExit(reason: string): void {
    if (!this.alive) {
      return;
    }
    this.deathCause = 'crash';
    this.markDead(reason);
    // The conversion under way fails at once; whatever is left of the pair goes too, and the
    // pool starts a new one.
    this.pending?.reject(this.crashError(reason));
    void this.kill(reason);
  }

  private markDead(reason: string): void {
    if (this.deadReason === undefined) {
      this.deadReason = reason;
      this.onDeath?.(reason);
    }
  }

  private crashError(reason: string): AppError {
    return new AppError('ENGINE_CRASHED', {
      details: { engine: 'libreoffice', reason, stderrTail: this.stderrTail },
    });
  }

  private startError(reason: string): AppError {
    return new AppError('ENGINE_FAILED', {
      message: 'LibreOffice did not start.',
      details: { engine: 'libreoffice', reason, stderrTail: this.stderrTail },
    });
  }
}

// Documents are untrusted: they may not make soffice fetch what they link to (images, style
// sheets on the network or on this machine's disk).
// TODO(#7): no network at all for soffice (a namespace or sandbox); until then every fetch goes
// to a proxy that is not there (the discard port), and linked images are refused.
const INET = '/org.openoffice.Inet/Settings';
const HARDENING = [
  ['/org.openoffice.Office.Common/Security/Scripting', 'BlockUntrustedRefererLinks', 'true'],
  [INET, 'ooInetProxyType', '2'],
  [INET, 'ooInetNoProxy', ''],
  ...['HTTP', 'HTTPS', 'FTP'].flatMap((scheme) => [
    [INET, `ooInet${scheme}ProxyName`, '127.0.0.1'],
    [INET, `ooInet${scheme}ProxyPort`, '9'],
  ]),
];

/** Puts our settings into a profile's registry, which soffice reads at start; idempotent. */
export async function hardenProfile(profileDir: string): Promise<void> {
  const file = join(profileDir, 'user', 'registrymodifications.xcu');
  const xcu = await readFile(file, 'utf8').catch(() => EMPTY_XCU);
  if (xcu.includes('BlockUntrustedRefererLinks')) {
    return;
  }
  const items = HARDENING.map(
    ([path, name, value]) =>
      `<item oor:path="${path}"><prop oor:name="${name}" oor:op="fuse"><value>${value}</value></prop></item>`,
  ).join('\n');
  await mkdir(join(profileDir, 'user'), { recursive: true });
  await writeFile(file, xcu.replace('</oor:items>', `${items}\n</oor:items>`));
}

const EMPTY_XCU =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<oor:items xmlns:oor="http://openoffice.org/2001/registry" ' +
  'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' +
  '</oor:items>\n';

/**
 * The whole environment of a soffice and its helper: documents are untrusted, so no secret of
 * the worker's environment reaches them, and their home and temp files stay in `dir`.
 */
export function sofficeEnv(dir: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir,
    TMPDIR: join(dir, 'tmp'),
    // soffice decodes argv paths with the locale's charset.
    LANG: process.env['LANG'] ?? 'C.UTF-8',
    ...(process.env['LC_ALL'] ? { LC_ALL: process.env['LC_ALL'] } : {}),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
