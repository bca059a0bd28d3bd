// The job graph end to end on a real gateway, worker, Postgres, Redis and LibreOffice: fan-out,
// fan-in (input order, released exactly once), failed inputs and ignore_error.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  beginUpload,
  completeTask,
  createJob as createJobGraph,
  deleteJob,
  type Outcome,
  type Router,
} from '@convertd/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TaskEvent } from '@convertd/queue';

import { eventually, startStack, type Stack } from '../../../test/harness';
import {
  byName,
  createJob,
  exportedFiles,
  expectNoTaskDirs,
  startServer,
  waitJob,
  type Json,
  type TestServer,
} from './support';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;

let stack: Stack;
let key: string;
let userId: number;
let server: TestServer;
let tmp: string;

beforeAll(async () => {
  stack = await startStack();
  ({ key, id: userId } = await stack.createUser());
  server = await startServer((_req, res) => {
    res.statusCode = 404;
    res.end('not here');
  });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'convertd-graph-'));
});

afterAll(async () => {
  await server?.close();
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function textOfPdf(bytes: Buffer): string {
  const file = path.join(tmp, `${randomUUID()}.pdf`);
  fs.writeFileSync(file, bytes);
  return execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });
}

function textOfDocx(bytes: Buffer): string {
  const file = path.join(tmp, `${randomUUID()}.docx`);
  fs.writeFileSync(file, bytes);
  return execFileSync('unzip', ['-p', file, 'word/document.xml'], { encoding: 'utf8' });
}

describe('job graph', () => {
  it('fans one import out to a PDF and a DOCX conversion, each with its own export', async () => {
    const created = await createJob(stack, key, {
      'import-it': {
        operation: 'import/raw',
        file: 'Hello fan-out\nsecond line\n',
        filename: 'hello.txt',
      },
      'to-pdf': { operation: 'convert', input: 'import-it', output_format: 'pdf' },
      'to-docx': { operation: 'convert', input: ['import-it'], output_format: 'docx' },
      'export-pdf': { operation: 'export/url', input: 'to-pdf' },
      'export-docx': { operation: 'export/url', input: 'to-docx' },
    });
    expect(created.tasks.map((t: Json) => t.name).sort()).toEqual([
      'export-docx',
      'export-pdf',
      'import-it',
      'to-docx',
      'to-pdf',
    ]);
    const ids = Object.fromEntries(created.tasks.map((t: Json) => [t.name, t.id]));
    expect(byName(created, 'import-it').depends_on_task_ids).toEqual([]);
    expect(byName(created, 'to-pdf').depends_on_task_ids).toEqual([ids['import-it']]);
    expect(byName(created, 'to-docx').depends_on_task_ids).toEqual([ids['import-it']]);
    expect(byName(created, 'export-pdf').depends_on_task_ids).toEqual([ids['to-pdf']]);
    expect(byName(created, 'export-docx').depends_on_task_ids).toEqual([ids['to-docx']]);

    const job = await waitJob(stack, key, created.id, 60_000);
    expect(job.status).toBe('finished');
    expect(job.started_at).toMatch(ISO);
    expect(job.ended_at).toMatch(ISO);
    expect(Date.parse(job.ended_at)).toBeGreaterThanOrEqual(Date.parse(job.started_at));
    expect(Date.parse(job.started_at)).toBeGreaterThanOrEqual(Date.parse(job.created_at));
    for (const task of job.tasks as Json[]) {
      expect({ name: task.name, status: task.status, code: task.code }).toEqual({
        name: task.name,
        status: 'finished',
        code: null,
      });
      expect(task.id).toBe(ids[task.name]);
      expect(task.started_at).toMatch(ISO);
      expect(task.ended_at).toMatch(ISO);
    }
    expect(byName(job, 'to-pdf')).toMatchObject({ engine: 'libreoffice', credits: 1 });
    expect(byName(job, 'to-docx')).toMatchObject({ engine: 'libreoffice', credits: 1 });

    const [pdf, ...morePdf] = await exportedFiles(byName(job, 'export-pdf'));
    expect(morePdf).toEqual([]);
    expect(pdf!.filename).toBe('hello.pdf');
    expect(pdf!.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf!.bytes.length).toBe(pdf!.size);
    expect(textOfPdf(pdf!.bytes)).toContain('Hello fan-out');

    const [docx, ...moreDocx] = await exportedFiles(byName(job, 'export-docx'));
    expect(moreDocx).toEqual([]);
    expect(docx!.filename).toBe('hello.docx');
    expect(docx!.bytes.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    expect(docx!.bytes.length).toBe(docx!.size);
    expect(textOfDocx(docx!.bytes)).toContain('Hello fan-out');
  });

  it('fans two imports into one export that lists their files in input order', async () => {
    const binary = randomBytes(4096);
    const jobs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        createJob(stack, key, {
          a: { operation: 'import/raw', file: `alpha ${i} ✓`, filename: 'a.txt' },
          b: { operation: 'import/base64', file: binary.toString('base64'), filename: 'b.bin' },
          both: { operation: 'export/url', input: ['b', 'a'] },
        }),
      ),
    );

    for (const [i, created] of jobs.entries()) {
      expect(byName(created, 'both').depends_on_task_ids).toEqual([
        byName(created, 'b').id,
        byName(created, 'a').id,
      ]);
      const job = await waitJob(stack, key, created.id);
      expect(job.status).toBe('finished');
      const both = byName(job, 'both');
      const files = await exportedFiles(both);
      expect(files.map((f) => f.filename)).toEqual(['b.bin', 'a.txt']);
      expect(files[0]!.bytes.equals(binary)).toBe(true);
      expect(files[1]!.bytes.toString('utf8')).toBe(`alpha ${i} ✓`);
      // Finished where it was released, once: no worker ever claimed it.
      const row = await stack.deps.db.task.findUniqueOrThrow({ where: { id: both.id } });
      expect(row.attempts).toBe(0);
      expect(await stack.deps.db.taskFile.count({ where: { taskId: both.id } })).toBe(2);
    }
  });

  /** Creates a job a, b (uploads) -> c (`operation`) and completes a and b at the same moment. */
  async function raceTwoInputs(
    operation: string,
    check: (c: string, outcomes: Outcome[]) => Promise<void>,
  ) {
    const db = stack.deps.db;
    const released = new Map<string, number>();
    const route: Router = (t) => {
      if (t.operation === 'import/upload') {
        return null;
      }
      released.set(t.id, (released.get(t.id) ?? 0) + 1);
      return 'test.nobody';
    };
    const file = (name: string) => ({
      id: randomUUID(),
      filename: name,
      storageKey: `tasks/none/${randomUUID()}`,
      size: 1n,
      md5: null,
      contentType: null,
    });

    for (let round = 0; round < 15; round += 1) {
      const [jobId, a, b, c] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      await createJobGraph(
        db,
        {
          id: jobId,
          userId,
          tag: null,
          webhookUrl: null,
          sandbox: false,
          tasks: [
            {
              id: a,
              name: 'a',
              operation: 'import/upload',
              payload: {},
              ignoreError: false,
              inputs: [],
            },
            {
              id: b,
              name: 'b',
              operation: 'import/upload',
              payload: {},
              ignoreError: false,
              inputs: [],
            },
            {
              id: c,
              name: 'c',
              operation,
              payload: { input: ['a', 'b'] },
              ignoreError: false,
              inputs: ['a', 'b'],
            },
          ],
        },
        route,
        stack.deps.cipher,
      );
      const [ua, ub] = await Promise.all([beginUpload(db, a), beginUpload(db, b)]);
      const outcomes = await Promise.all([
        completeTask(db, a, ua!.attempt, { result: {}, files: [file('a.txt')] }, route),
        completeTask(db, b, ub!.attempt, { result: {}, files: [file('b.txt')] }, route),
      ]);

      await check(
        c,
        outcomes.map((o) => o!),
      );
      expect(released.get(c) ?? 0).toBe(operation === 'export/url' ? 0 : 1);
      await deleteJob(db, jobId, userId, route);
    }
  }

  it('releases a task waiting on two inputs exactly once when both inputs end at the same moment', async () => {
    await raceTwoInputs('merge', async (c, outcomes) => {
      const readyC = outcomes.flatMap((o) => o.ready).filter((r) => r.id === c);
      expect(readyC).toEqual([{ id: c, queue: 'test.nobody' }]);
      const row = await stack.deps.db.task.findUniqueOrThrow({ where: { id: c } });
      expect({ status: row.status, queue: row.queue, queued: row.queuedAt !== null }).toEqual({
        status: 'waiting',
        queue: 'test.nobody',
        queued: true,
      });
    });
  });

  it('finishes an export waiting on two inputs exactly once, with both files, when both end at once', async () => {
    await raceTwoInputs('export/url', async (c, outcomes) => {
      expect(outcomes.flatMap((o) => o.ready)).toEqual([]);
      const finished = outcomes.flatMap((o) => o.changes).filter((e) => e.id === c);
      expect(finished).toEqual([
        expect.objectContaining({ status: 'finished', event: 'finished' }),
      ]);
      const row = await stack.deps.db.task.findUniqueOrThrow({
        where: { id: c },
        include: { files: { orderBy: { position: 'asc' } } },
      });
      expect(row.status).toBe('finished');
      expect(row.files.map((f) => f.filename)).toEqual(['a.txt', 'b.txt']);
    });
  });

  it('fails the dependants of a failed input with INPUT_TASK_FAILED, and the job', async () => {
    const before = server.requests.length;
    const created = await createJob(stack, key, {
      fetch: { operation: 'import/url', url: `${server.origin}/missing.docx` },
      convert: { operation: 'convert', input: 'fetch', output_format: 'pdf' },
      export: { operation: 'export/url', input: 'convert' },
    });
    const job = await waitJob(stack, key, created.id);

    expect(job.status).toBe('error');
    expect(job.ended_at).toMatch(ISO);
    expect(byName(job, 'fetch')).toMatchObject({
      status: 'error',
      code: 'IMPORT_FAILED',
      message: 'The URL answered HTTP 404 Not Found.',
    });
    for (const name of ['convert', 'export']) {
      const task = byName(job, name);
      expect({
        status: task.status,
        code: task.code,
        message: task.message,
        started_at: task.started_at,
        result: task.result,
      }).toEqual({
        status: 'error',
        code: 'INPUT_TASK_FAILED',
        message: 'Input task has failed',
        started_at: null,
        result: null,
      });
      expect(task.ended_at).toMatch(ISO);
    }
    expect(server.requests.slice(before).map((r) => r.url)).toEqual(['/missing.docx']);
  });

  it('finishes the job and the export with the good file when the failed input has ignore_error', async () => {
    const created = await createJob(stack, key, {
      bad: { operation: 'import/url', url: `${server.origin}/gone.txt`, ignore_error: true },
      good: { operation: 'import/raw', file: 'the good file', filename: 'good.txt' },
      export: { operation: 'export/url', input: ['bad', 'good'] },
    });
    const job = await waitJob(stack, key, created.id);

    expect(job.status).toBe('finished');
    expect(byName(job, 'bad')).toMatchObject({ status: 'error', code: 'IMPORT_FAILED' });
    const exp = byName(job, 'export');
    expect(exp.status).toBe('finished');
    const files = await exportedFiles(exp);
    expect(files.map((f) => [f.filename, f.bytes.toString()])).toEqual([
      ['good.txt', 'the good file'],
    ]);
  });

  it('publishes the events of an instant export that a worker’s import released', async () => {
    const source = await startServer((_req, res) => res.end('fetched by the worker'));
    const seen: string[] = [];
    const listen = (e: TaskEvent) => seen.push(`${e.kind} ${e.id} ${e.event} ${e.userId}`);
    stack.deps.events.on('event', listen);
    try {
      const created = await createJob(stack, key, {
        get: { operation: 'import/url', url: `${source.origin}/f.txt` },
        out: { operation: 'export/url', input: 'get' },
      });
      const job = await waitJob(stack, key, created.id);
      expect(job.status).toBe('finished');
      const out = byName(job, 'out');
      expect((await exportedFiles(out)).map((f) => f.bytes.toString())).toEqual([
        'fetched by the worker',
      ]);

      await eventually(async () => seen.includes(`job ${job.id} finished ${userId}`));
      const mine = seen.filter((l) => l.includes(out.id) || l.includes(job.id));
      expect(mine).toEqual(
        expect.arrayContaining([
          `task ${out.id} created ${userId}`,
          `task ${out.id} finished ${userId}`,
          `job ${job.id} finished ${userId}`,
        ]),
      );
      expect(mine.filter((l) => l === `task ${out.id} finished ${userId}`)).toHaveLength(1);
      expect(mine.indexOf(`task ${out.id} finished ${userId}`)).toBeLessThan(
        mine.indexOf(`job ${job.id} finished ${userId}`),
      );
    } finally {
      stack.deps.events.off('event', listen);
      await source.close();
    }
  });

  it('leaves no task directory in the work dir', async () => {
    await expectNoTaskDirs(stack.env.WORK_DIR!);
  });
});
