// The warm LibreOffice pool's supervision, driven by fake programs in place of soffice.bin and the
// UNO helper: hangs, crashes, exit codes, floods, children left behind, restarts and waiting.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { OfficePool, type OfficePoolOptions } from '../src/libreoffice/office-pool';
import { eventually, failure, processesMentioning } from './support';

/** What a stopped conversion may take on top of its deadline (issue #4). */
const SLACK_MS = 2000;

// soffice.bin: sets up its "profile" and exits 0, or waits until killed.
const FAKE_SOFFICE = `#!${process.execPath}
if (process.argv.includes('--terminate_after_init')) process.exit(0);
setInterval(() => {}, 1000);
`;

// The UNO helper: answers by the input file's name.
const FAKE_HELPER = `
import { spawn } from 'node:child_process';
import readline from 'node:readline';
const lines = readline.createInterface({ input: process.stdin });
const reply = (obj) => process.stdout.write(JSON.stringify(obj) + '\\n');
let first = true;
lines.on('line', (line) => {
  const job = JSON.parse(line);
  if (first) { first = false; reply({ ready: true }); return; }
  if (job.terminate) { reply({ ok: true }); process.exit(0); }
  const name = job.input.split('/').pop();
  switch (name) {
    case 'ok': return reply({ ok: true });
    case 'corrupt': return reply({ ok: false, stage: 'load', error: 'IllegalArgumentException' });
    case 'hang': return;
    case 'ignore-term': process.on('SIGTERM', () => {}); return;
    case 'segv': return process.kill(process.pid, 'SIGSEGV');
    case 'exit3': return process.exit(3);
    case 'garbage': return process.stdout.write('this is not json\\n');
    case 'flood': {
      const chunk = 'x'.repeat(1 << 20);
      for (let i = 0; i < 20; i++) process.stderr.write(chunk);
      return reply({ ok: true });
    }
    case 'child': {
      spawn('sleep', [process.env.SLEEPER], { stdio: 'ignore' });
      return reply({ ok: true });
    }
  }
});
`;

let root: string;
let fakeSoffice: string;
let fakeHelper: string;
const pools: OfficePool[] = [];
/** A number no other sleeper on the machine uses, to find the child left behind. */
const SLEEPER = `${90000 + Math.floor(Math.random() * 9000)}.5`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'engines-office-pool-'));
  fakeSoffice = join(root, 'soffice.bin');
  fakeHelper = join(root, 'helper.mjs');
  await writeFile(fakeSoffice, FAKE_SOFFICE);
  await chmod(fakeSoffice, 0o755);
  await writeFile(fakeHelper, FAKE_HELPER);
  process.env['SLEEPER'] = SLEEPER;
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function pool(options: Partial<OfficePoolOptions> = {}): OfficePool {
  const created = new OfficePool({
    size: 1,
    restartAfter: 0,
    maxRssBytes: 0,
    root: join(root, `pool-${pools.length}-${Date.now()}`),
    sofficeBin: fakeSoffice,
    python: process.execPath,
    helperScript: fakeHelper,
    startTimeoutMs: 10_000,
    stopGraceMs: 200,
    ...options,
  });
  pools.push(created);

  return created;
}

function job(name: string) {
  return {
    input: pathToFileURL(join(root, name)).href,
    output: pathToFileURL(join(root, 'out.pdf')).href,
    filter: 'writer_pdf_Export',
  };
}

/** Processes started by the fake programs of this file that are still there. */
function leftovers(): number[] {
  return [...processesMentioning(root), ...processesMentioning(SLEEPER)];
}

/** No more processes than a pool of `size` runs (a replacement starts at once), no sleeper. */
function onlyThePool(size: number): boolean {
  return (
    processesMentioning(fakeSoffice).length <= size &&
    processesMentioning(fakeHelper).length <= size &&
    processesMentioning(SLEEPER).length === 0
  );
}

/** Children of this process that exited and were never reaped. */
function zombieChildren(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        // "pid (comm) S ppid ..."; comm may hold spaces, so read after the last ')'.
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return state === 'Z' && Number(ppid) === process.pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('OfficePool', () => {
  it('starts every process when warmed, before any conversion', async () => {
    const sut = pool({ size: 2 });
    await sut.warm();

    expect(sut.state()).toMatchObject({ size: 2, live: 2, idle: 2, busy: 0, waiting: 0 });
    expect(processesMentioning(fakeSoffice)).toHaveLength(2);
    expect(processesMentioning(fakeHelper)).toHaveLength(2);
  });

  it.each([
    ['hang', 'ENGINE_TIMEOUT', 'killed'],
    ['ignore-term', 'ENGINE_TIMEOUT', 'killed'],
    ['segv', 'ENGINE_CRASHED', 'crash'],
    ['exit3', 'ENGINE_CRASHED', 'crash'],
    ['garbage', 'ENGINE_CRASHED', 'crash'],
  ] as const)(
    'ends a helper that does "%s" with %s in time, leaves nothing behind and serves the next',
    async (name, code, cause) => {
      const sut = pool();
      await sut.warm();
      const deadlineMs = 800;
      const { err, ms } = await failure(sut.convert(job(name), deadlineMs));

      expect(err.code).toBe(code);
      expect(ms).toBeLessThan(deadlineMs + SLACK_MS);
      expect(await eventually(() => onlyThePool(1))).toBe(true);
      expect(sut.state().restarts[cause]).toBe(1);
      // The replacement starts before anyone asks for it.
      expect(await eventually(() => sut.state().live === 1, 5000)).toBe(true);
      expect(await sut.convert(job('ok'), 5000)).toEqual({ ok: true });
    },
  );

  it('keeps the process after a conversion that failed on a bad input', async () => {
    const sut = pool();
    await sut.warm();

    expect(await sut.convert(job('corrupt'), 5000)).toMatchObject({ ok: false, stage: 'load' });
    expect(await sut.convert(job('ok'), 5000)).toEqual({ ok: true });
    expect(sut.state().restarts).toEqual({ served: 0, memory: 0, crash: 0, killed: 0 });
  });

  it('stops a conversion with ENGINE_CANCELLED when its signal aborts', async () => {
    const sut = pool();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const { err, ms } = await failure(sut.convert(job('hang'), 30_000, controller.signal));

    expect(err.code).toBe('ENGINE_CANCELLED');
    expect(ms).toBeLessThan(300 + SLACK_MS);
    expect(await eventually(() => onlyThePool(1))).toBe(true);
    expect(await sut.convert(job('ok'), 5000)).toEqual({ ok: true });
  });

  it('survives a 20 MB stderr flood', async () => {
    const sut = pool();

    expect(await sut.convert(job('flood'), 10_000)).toEqual({ ok: true });
    expect(await sut.convert(job('ok'), 5000)).toEqual({ ok: true });
  });

  it('kills a child the helper left behind when the process is replaced', async () => {
    const sut = pool({ restartAfter: 1 });

    expect(await sut.convert(job('child'), 5000)).toEqual({ ok: true });
    expect(await eventually(() => processesMentioning(SLEEPER).length === 0)).toBe(true);
    expect(sut.state().restarts.served).toBe(1);
  });

  it('serves 200 conversions with restart-after=10 and leaves no zombie or process', async () => {
    const sut = pool({ size: 2, restartAfter: 10 });
    const replies = [];
    // Four at once on two processes: half of them wait for a free one.
    for (let i = 0; i < 50; i++) {
      replies.push(...(await Promise.all([1, 2, 3, 4].map(() => sut.convert(job('ok'), 10_000)))));
    }

    expect(replies).toHaveLength(200);
    expect(replies.every((r) => r.ok)).toBe(true);
    // Each process is replaced after its 10th: 200 = 10 × replaced + what the two left served
    // (at most 9 each), so 19 or 20 were replaced.
    expect(sut.state().restarts.served).toBeGreaterThanOrEqual(19);
    expect(sut.state().restarts.served).toBeLessThanOrEqual(20);
    expect(sut.state().live).toBeLessThanOrEqual(2);
    await sut.close();
    expect(await eventually(() => leftovers().length === 0)).toBe(true);
    // A child that just exited may wait a moment for the event loop to reap it.
    expect(await eventually(() => zombieChildren().length === 0)).toBe(true);
  });

  it('makes a conversion wait for a free process, and gives it a new one after a kill', async () => {
    const sut = pool();
    await sut.warm();
    const stuck = failure(sut.convert(job('hang'), 800));
    const waiting = sut.convert(job('ok'), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(sut.state()).toMatchObject({ busy: 1, waiting: 1 });
    expect((await stuck).err.code).toBe('ENGINE_TIMEOUT');
    expect(await waiting).toEqual({ ok: true });
  });

  it('ends a conversion that finds no free process before its deadline with ENGINE_TIMEOUT', async () => {
    const sut = pool();
    await sut.warm();
    const stuck = failure(sut.convert(job('hang'), 3000));
    const { err, ms } = await failure(sut.convert(job('ok'), 300));

    expect(err.code).toBe('ENGINE_TIMEOUT');
    expect(ms).toBeLessThan(300 + SLACK_MS);
    expect((await stuck).err.code).toBe('ENGINE_TIMEOUT');
  });

  it('replaces a process whose soffice passes the memory limit', async () => {
    // A shell uses more than one byte.
    const sut = pool({ maxRssBytes: 1 });

    expect(await sut.convert(job('ok'), 5000)).toEqual({ ok: true });
    expect(await sut.convert(job('ok'), 5000)).toEqual({ ok: true });
    expect(sut.state().restarts.memory).toBe(2);
  });

  it('fails with ENGINE_FAILED when soffice cannot start', async () => {
    const sut = pool({ sofficeBin: join(root, 'no-such-soffice') });
    const { err } = await failure(sut.convert(job('ok'), 5000));

    expect(err.code).toBe('ENGINE_FAILED');
    expect(err.message).toContain('LibreOffice did not start');
    expect(await eventually(() => leftovers().length === 0)).toBe(true);
  });
});
