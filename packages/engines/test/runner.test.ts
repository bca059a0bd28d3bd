import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OUTPUT_CAP_BYTES, runProcess } from '../src/runner';
import { eventually, failure, groupMembers, isAlive } from './support';

const BIN = resolve(import.meta.dirname, 'fixtures/bin');
const DEADLINE_MS = 1000;
const GRACE_MS = 500;
/** What the runner may take on top of deadline + grace. */
const SLACK_MS = 1000;

let cwd: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'engines-runner-'));
});

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

/** Runs a fixture through sh, so the test does not depend on the executable bit. */
function runFixture(
  script: string,
  args: string[],
  extra: { signal?: AbortSignal; killGraceMs?: number } = {},
) {
  return runProcess('sh', [join(BIN, script), ...args], {
    cwd,
    deadlineMs: DEADLINE_MS,
    killGraceMs: extra.killGraceMs ?? GRACE_MS,
    ...(extra.signal === undefined ? {} : { signal: extra.signal }),
  });
}

async function pidsFrom(file: string): Promise<number[]> {
  return (await readFile(file, 'utf8')).trim().split(/\s+/).map(Number);
}

describe(runProcess.name, () => {
  it('resolves with the output of a successful run', async () => {
    const result = await runProcess('sh', ['-c', 'echo out; echo err >&2'], {
      cwd,
      deadlineMs: 5000,
    });

    expect(result).toMatchObject({ stdout: 'out\n', stderr: 'err\n', exitCode: 0 });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('hides this process environment when inheritEnv is false', async () => {
    process.env['ENGINES_TEST_SECRET'] = 'hunter2';
    const script = 'echo "${ENGINES_TEST_SECRET:-unset} $ONLY"';
    const env = { PATH: process.env['PATH'] ?? '', ONLY: 'given' };
    const hidden = await runProcess('sh', ['-c', script], {
      cwd,
      env,
      inheritEnv: false,
      deadlineMs: 5000,
    });
    const inherited = await runProcess('sh', ['-c', script], { cwd, env, deadlineMs: 5000 });
    delete process.env['ENGINES_TEST_SECRET'];

    expect(hidden.stdout).toBe('unset given\n');
    expect(inherited.stdout).toBe('hunter2 given\n');
  });

  it('maps a non-zero exit to ENGINE_FAILED and keeps code and stderr in details', async () => {
    const { err } = await failure(runFixture('exit-code.sh', ['3']));

    expect(err.code).toBe('ENGINE_FAILED');
    expect(err.details).toMatchObject({ exitCode: 3, signal: null });
    expect(err.details?.['stderrTail']).toContain('giving up');
    expect(err.message).not.toContain('giving up');
  });

  it('accepts the exit codes listed in okExitCodes', async () => {
    const result = await runProcess('sh', [join(BIN, 'exit-code.sh'), '1'], {
      cwd,
      deadlineMs: 5000,
      okExitCodes: [0, 1],
    });

    expect(result.exitCode).toBe(1);
  });

  it('kills a program that runs past its deadline with ENGINE_TIMEOUT', async () => {
    const pidFile = join(cwd, 'hang.pid');
    const { err, ms } = await failure(runFixture('hang.sh', [pidFile]));
    const [leader = 0] = await pidsFrom(pidFile);

    expect(err.code).toBe('ENGINE_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    expect(ms).toBeLessThan(DEADLINE_MS + GRACE_MS + SLACK_MS);
    expect(await eventually(() => groupMembers(leader).length === 0)).toBe(true);
  });

  it('SIGKILLs a group that ignores SIGTERM after the default 2 s grace', async () => {
    const pidFile = join(cwd, 'ignore.pid');
    const started = Date.now();
    const run = runProcess('sh', [join(BIN, 'ignore-term.sh'), pidFile], {
      cwd,
      deadlineMs: DEADLINE_MS,
    });
    const { err } = await failure(run);
    const ms = Date.now() - started;
    const [leader = 0] = await pidsFrom(pidFile);

    expect(err.code).toBe('ENGINE_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS + 2000 - 50);
    expect(ms).toBeLessThan(DEADLINE_MS + 2000 + SLACK_MS);
    expect(await eventually(() => groupMembers(leader).length === 0)).toBe(true);
  });

  it.each(['SEGV', 'KILL'])('maps a program killed by SIG%s to ENGINE_CRASHED', async (name) => {
    const { err, ms } = await failure(runFixture('self-signal.sh', [name]));

    expect(err.code).toBe('ENGINE_CRASHED');
    expect(err.retryable).toBe(true);
    expect(err.details).toMatchObject({ exitCode: null, signal: `SIG${name}` });
    expect(ms).toBeLessThan(DEADLINE_MS);
  });

  it('keeps only the tail of a 50 MB stderr flood', async () => {
    const result = await runProcess('sh', [join(BIN, 'flood-stderr.sh'), '50', '0'], {
      cwd,
      deadlineMs: 20_000,
    });

    expect(result.stdout).toBe('stdout survives\n');
    expect(result.stderr.length).toBeLessThanOrEqual(OUTPUT_CAP_BYTES);
    expect(result.stderr.endsWith('xthe end\n')).toBe(true);
  });

  it('puts only the last 4 KB of stderr on the error', async () => {
    const { err } = await failure(
      runProcess('sh', [join(BIN, 'flood-stderr.sh'), '50', '2'], { cwd, deadlineMs: 20_000 }),
    );
    const tail = err.details?.['stderrTail'];

    expect(err.code).toBe('ENGINE_FAILED');
    expect(typeof tail === 'string' && tail.length <= 4096 && tail.endsWith('the end\n')).toBe(
      true,
    );
  });

  it('leaves no process of the group behind when a hanging leader forked a sleeper', async () => {
    const pidFile = join(cwd, 'fork-hang.pid');
    const { err, ms } = await failure(runFixture('fork-sleeper.sh', [pidFile, 'hang']));
    const [leader = 0, child = 0] = await pidsFrom(pidFile);

    expect(err.code).toBe('ENGINE_TIMEOUT');
    expect(ms).toBeLessThan(DEADLINE_MS + GRACE_MS + SLACK_MS);
    expect(await eventually(() => !isAlive(child) && groupMembers(leader).length === 0)).toBe(true);
  });

  it('kills children left behind by a leader that exited, without awaiting the deadline', async () => {
    const pidFile = join(cwd, 'fork-exit.pid');
    const started = Date.now();
    const result = await runFixture('fork-sleeper.sh', [pidFile, 'exit']);
    const [leader = 0, child = 0] = await pidsFrom(pidFile);

    expect(result.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(DEADLINE_MS);
    expect(await eventually(() => !isAlive(child) && groupMembers(leader).length === 0)).toBe(true);
  });

  it('returns in bounded time when a descendant escapes the group holding the pipes', async () => {
    const pidFile = join(cwd, 'escaped.pid');
    const script = `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 1000' & sleep 0.2; exit 0`;
    const started = Date.now();
    const result = await runProcess('sh', ['-c', script], { cwd, deadlineMs: DEADLINE_MS });
    const [escaped = 0] = await pidsFrom(pidFile);
    process.kill(escaped, 'SIGKILL');

    expect(result.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(DEADLINE_MS + SLACK_MS);
  });

  it('stops the group with ENGINE_CANCELLED when the signal aborts', async () => {
    const pidFile = join(cwd, 'abort.pid');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('job cancelled')), 200);
    const { err, ms } = await failure(
      runFixture('hang.sh', [pidFile], { signal: controller.signal, killGraceMs: GRACE_MS }),
    );
    const [leader = 0] = await pidsFrom(pidFile);

    expect(err.code).toBe('ENGINE_CANCELLED');
    expect(ms).toBeLessThan(200 + GRACE_MS + SLACK_MS);
    expect(await eventually(() => groupMembers(leader).length === 0)).toBe(true);
  });

  it('does not start a program when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const { err } = await failure(runFixture('exit-code.sh', ['0'], { signal: controller.signal }));

    expect(err.code).toBe('ENGINE_CANCELLED');
  });

  it('maps a missing executable to ENGINE_FAILED', async () => {
    const { err } = await failure(runProcess('/nonexistent/engine', [], { cwd, deadlineMs: 1000 }));

    expect(err.code).toBe('ENGINE_FAILED');
    expect(err.details).toMatchObject({ reason: 'spawn failed', errno: 'ENOENT' });
  });
});
