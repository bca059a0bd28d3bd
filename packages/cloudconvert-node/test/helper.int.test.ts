// The node SDK helper: URL mapping, and the preload used by code that cannot be edited.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, startStack, type Stack } from '../../../test/harness';
import { rewriteSocketUrl, rewriteUrl } from '../index.cjs';

const exec = promisify(execFile);
const PKG = path.resolve(import.meta.dirname, '..');

describe('rewriteUrl', () => {
  const target = { url: 'http://conv.local:8080/', syncUrl: 'http://conv.local:8081' };

  it('maps the API hosts of every region and the sandbox', () => {
    expect(rewriteUrl('https://api.cloudconvert.com/v2/jobs?page=2', target)).toBe(
      'http://conv.local:8080/v2/jobs?page=2',
    );
    expect(rewriteUrl('https://api.sandbox.cloudconvert.com/v2/users/me', target)).toBe(
      'http://conv.local:8080/v2/users/me',
    );
    expect(rewriteUrl('https://eu-central.api.cloudconvert.com/v2/tasks', target)).toBe(
      'http://conv.local:8080/v2/tasks',
    );
  });

  it('maps the sync hosts to the sync origin, or to /wait routes without one', () => {
    expect(rewriteUrl('https://sync.api.cloudconvert.com/v2/jobs/abc', target)).toBe(
      'http://conv.local:8081/v2/jobs/abc',
    );
    expect(
      rewriteUrl('https://sync.api.sandbox.cloudconvert.com/v2/tasks/abc', { url: 'http://x:1' }),
    ).toBe('http://x:1/v2/tasks/abc/wait');
  });

  it('leaves other URLs alone', () => {
    expect(rewriteUrl('http://conv.local:8080/upload/abc?x=1', target)).toBe(
      'http://conv.local:8080/upload/abc?x=1',
    );
    expect(rewriteUrl('https://evil.example/api.cloudconvert.com/v2/', target)).toBe(
      'https://evil.example/api.cloudconvert.com/v2/',
    );
  });
});

describe('rewriteSocketUrl', () => {
  it('maps the live and sandbox socket.io hosts to the socket origin, else the main one', () => {
    const target = { url: 'https://conv.local:8443/' };
    expect(rewriteSocketUrl('https://socketio.cloudconvert.com', target)).toBe(
      'https://conv.local:8443',
    );
    expect(
      rewriteSocketUrl('https://socketio.sandbox.cloudconvert.com', {
        ...target,
        socketUrl: 'https://socketio.conv.local:8443',
      }),
    ).toBe('https://socketio.conv.local:8443');
    expect(rewriteSocketUrl('https://socketio.cloudconvert.com.evil.example', target)).toBe(
      'https://socketio.cloudconvert.com.evil.example',
    );
  });
});

describe('register preload', () => {
  let stack: Stack;

  beforeAll(async () => {
    // Imports and exports only: the io queue is all these programs need.
    stack = await startStack({ workerOptions: { engines: [] } });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('points an unmodified SDK program at convertd, waits included', async () => {
    const user = await stack.createUser();
    const program = `
      const CloudConvert = require('cloudconvert');
      (async () => {
        const cc = new CloudConvert(process.env.KEY, true);
        const me = await cc.users.me();
        const job = await cc.jobs.create({ tasks: {
          'in': { operation: 'import/raw', file: 'hello from an unmodified program', filename: 'hello.txt' },
          'out': { operation: 'export/url', input: 'in' } } });
        const done = await cc.jobs.wait(job.id);
        const [file] = cc.jobs.getExportUrls(done);
        const text = await (await fetch(file.url)).text();
        console.log(JSON.stringify({ email: me.email, status: done.status, filename: file.filename, text }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const { stdout } = await exec(
      process.execPath,
      ['--require', path.join(PKG, 'register.cjs'), '-e', program],
      {
        cwd: PKG,
        env: {
          ...process.env,
          KEY: user.key,
          CONVERTD_URL: stack.url,
          CONVERTD_SYNC_URL: stack.syncUrl,
        },
      },
    );
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({
      status: 'finished',
      filename: 'hello.txt',
      text: 'hello from an unmodified program',
    });
    expect(out.email).toMatch(/@example\.test$/);
  });

  it('lets an unmodified SDK program wait for jobs.subscribeEvent(id, "finished")', async () => {
    const user = await stack.createUser();
    const program = `
      const CloudConvert = require('cloudconvert');
      const readline = require('node:readline');
      (async () => {
        const cc = new CloudConvert(process.env.KEY, true);
        const job = await cc.jobs.create({ tag: 'integration-test-socket', tasks: {
          'import-it': { operation: 'import/upload' },
          'export-it': { operation: 'export/url', input: 'import-it' } } });
        const finished = new Promise((resolve) => cc.jobs.subscribeEvent(job.id, 'finished', resolve));
        console.log(JSON.stringify({ job: job.id }));
        const lines = readline.createInterface({ input: process.stdin });
        await new Promise((resolve) => lines.once('line', resolve));
        lines.close();
        const upload = job.tasks.find((t) => t.name === 'import-it');
        await cc.tasks.upload(upload, Buffer.from('sent after subscribing'), 'input.txt');
        const event = await finished;
        cc.closeSocket();
        const [file] = cc.jobs.getExportUrls(event.job);
        const text = await (await fetch(file.url)).text();
        console.log(JSON.stringify({ status: event.job.status, filename: file.filename, text }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const child = spawn(
      process.execPath,
      ['--require', path.join(PKG, 'register.cjs'), '-e', program],
      {
        cwd: PKG,
        env: {
          ...process.env,
          KEY: user.key,
          CONVERTD_URL: stack.url,
          CONVERTD_SYNC_URL: stack.syncUrl,
        },
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines = readline.createInterface({ input: child.stdout });
    const out: string[] = [];
    const first = new Promise<string>((resolve) =>
      lines.on('line', (line) => {
        out.push(line);
        resolve(line);
      }),
    );

    const { job } = JSON.parse(await first) as { job: string };
    // The upload waits until convertd holds the subscription (events are not replayed).
    await eventually(async () => stack.deps.live.count(`private-job.${job}`) === 1);
    child.stdin.end('go\n');
    expect(await exited).toBe(0);
    expect(JSON.parse(out.at(-1)!)).toEqual({
      status: 'finished',
      filename: 'input.txt',
      text: 'sent after subscribing',
    });
  });
});
