// Inputs LibreOffice cannot or must not convert (password-protected, damaged, unsupported pairs)
// end in error with a precise code within their deadline, and the worker keeps converting.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, CORPUS, startStack, type Stack } from '../../../test/harness';
import { FakeEngine } from './fixtures/fake-engine';
import {
  byName,
  createJob,
  createTask,
  exportedFiles,
  expectNoTaskDirs,
  waitJob,
  waitTask,
  type Json,
} from './support';

let stack: Stack;
let key: string;
let tmp: string;
const sleepy = new FakeEngine({ name: 'sleepy', delayMs: 30_000 });
const stubborn = new FakeEngine({ name: 'stubborn', delayMs: 2500, ignoreAbort: true });

beforeAll(async () => {
  stack = await startStack();
  ({ key } = await stack.createUser());
  await stack.startWorker({ engines: [sleepy, stubborn], hostName: 'worker-sleepy' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'convertd-bad-'));
});

afterAll(async () => {
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** import/base64 of `bytes` named `filename`, converted to `outputFormat`; returns the ended job. */
async function convert(bytes: Buffer, filename: string, outputFormat: string, extra: Json = {}) {
  const startedAt = Date.now();
  const created = await createJob(stack, key, {
    in: { operation: 'import/base64', file: bytes.toString('base64'), filename },
    conv: { operation: 'convert', input: 'in', output_format: outputFormat, timeout: 60, ...extra },
    out: { operation: 'export/url', input: 'conv' },
  });
  const job = await waitJob(stack, key, created.id, 70_000);

  return { job, conv: byName(job, 'conv'), elapsedMs: Date.now() - startedAt };
}

function corpus(file: string): Buffer {
  return fs.readFileSync(path.join(CORPUS, file));
}

function expectFailed(conv: Json, code: string): void {
  expect({ status: conv.status, code: conv.code }).toEqual({ status: 'error', code });
  expect(conv.result).toBeNull();
  // A failure inside the engine is reported as that engine's.
  expect(conv.started_at).not.toBeNull();
  expect(conv.host_name).toBe(stack.worker!.context.hostName);
  expect(Date.parse(conv.ended_at) - Date.parse(conv.started_at)).toBeLessThan(60_000);
}

describe('bad office inputs with real LibreOffice', () => {
  it.each([
    ['office/protected_page_1.docx', 'pdf'],
    ['office/encryptAES.xlsx', 'pdf'],
    ['office/password_password_cryptoapi.doc', 'pdf'],
  ])('%s ends PASSWORD_REQUIRED', async (file, format) => {
    const { job, conv, elapsedMs } = await convert(corpus(file), path.basename(file), format);
    expect(job.status).toBe('error');
    expectFailed(conv, 'PASSWORD_REQUIRED');
    expect(conv.message).toBe('The file is protected by a password');
    expect(byName(job, 'out')).toMatchObject({ status: 'error', code: 'INPUT_TASK_FAILED' });
    expect(elapsedMs).toBeLessThan(30_000);
  });

  it('a DOCX of random bytes ends INPUT_CORRUPT', async () => {
    const { conv, elapsedMs } = await convert(randomBytes(20_000), 'x.docx', 'pdf');
    expectFailed(conv, 'INPUT_CORRUPT');
    expect(conv.message).toBe('The file is damaged or not of the type it claims to be');
    expect(elapsedMs).toBeLessThan(30_000);
  });

  it('a truncated DOCX ends INPUT_CORRUPT', async () => {
    const whole = corpus('office/notes.docx');
    const { conv, elapsedMs } = await convert(
      whole.subarray(0, Math.floor(whole.length / 2)),
      'half.docx',
      'pdf',
    );
    expectFailed(conv, 'INPUT_CORRUPT');
    expect(elapsedMs).toBeLessThan(30_000);
  });

  it('an empty DOCX ends INPUT_CORRUPT', async () => {
    const { conv } = await convert(Buffer.alloc(0), 'empty.docx', 'pdf');
    expectFailed(conv, 'INPUT_CORRUPT');
  });

  it('converts a good document on the same worker afterwards', async () => {
    const { job, conv } = await convert(corpus('office/notes.docx'), 'notes.docx', 'pdf');
    expect(job.status).toBe('finished');
    expect(conv).toMatchObject({
      status: 'finished',
      engine: 'libreoffice',
      host_name: stack.worker!.context.hostName,
    });
    const [pdf] = await exportedFiles(byName(job, 'out'));
    expect(pdf!.filename).toBe('notes.pdf');
    const file = path.join(tmp, 'notes.pdf');
    fs.writeFileSync(file, pdf!.bytes);
    expect(execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' }).toLowerCase()).toContain(
      'footnote',
    );
  });
});

describe('conversions nobody offers', () => {
  it.each([
    ['doc.pdf', 'xlsx', {}, 'pdf to xlsx'],
    ['note.txt', 'xyz', {}, 'txt to xyz'],
    ['note.txt', 'pdf', { input_format: 'pdf' }, 'pdf to pdf'],
  ])('a job converting %s to %s is refused at creation', async (filename, format, extra, pair) => {
    const res = await api(stack, key, 'POST', '/v2/jobs', {
      tasks: {
        in: { operation: 'import/base64', file: 'eA==', filename },
        conv: { operation: 'convert', input: 'in', output_format: format, ...extra },
      },
    });
    expect(res.status).toBe(422);
    expect(res.json).toEqual({
      message: `This conversion type is not supported: ${pair}.`,
      code: 'INVALID_CONVERSION_TYPE',
    });
  });

  it.each([
    ['%PDF-1.4\n%%EOF\n', 'doc.pdf', 'xlsx', 'pdf to xlsx'],
    ['no extension', 'README', 'pdf', 'unknown to pdf'],
  ])(
    '%s as %s to %s ends INVALID_CONVERSION_TYPE when only the file tells',
    async (content, filename, format, pair) => {
      // A standalone convert of an earlier task: the format is known only once the file exists.
      const src = await waitTask(
        stack,
        key,
        (
          await api(stack, key, 'POST', '/v2/import/base64', {
            file: Buffer.from(content).toString('base64'),
            filename,
          })
        ).json.data.id,
      );
      const created = await api(stack, key, 'POST', '/v2/convert', {
        input: src.id,
        output_format: format,
      });
      expect(created.status).toBe(201);
      const conv = await waitTask(stack, key, created.json.data.id);
      expect(conv).toMatchObject({
        status: 'error',
        code: 'INVALID_CONVERSION_TYPE',
        message: `This conversion type is not supported: ${pair}.`,
      });
    },
  );
});

describe('deadlines', () => {
  it('stops a conversion past its `timeout` with ENGINE_TIMEOUT', async () => {
    const src = await waitTask(
      stack,
      key,
      (await createTask(stack, key, 'import/raw', { file: 'zzz', filename: 'sleep.txt' })).id,
    );
    const before = sleepy.calls.length;
    const startedAt = Date.now();
    const conv = await createTask(stack, key, 'convert', {
      input: src.id,
      output_format: 'pdf',
      engine: 'sleepy',
      timeout: 1,
    });
    const done = await waitTask(stack, key, conv.id, 15_000);

    expect(done).toMatchObject({
      status: 'error',
      code: 'ENGINE_TIMEOUT',
      message: 'The conversion took longer than its deadline',
      result: null,
    });
    expect(Date.now() - startedAt).toBeLessThan(8000);
    const call = sleepy.calls[before]!;
    expect(call.aborted).toBe(true);
    expect((call.reason as { code?: string }).code).toBe('ENGINE_TIMEOUT');
  });

  it('ends ENGINE_TIMEOUT even when the engine ignores the signal and returns late', async () => {
    const src = await waitTask(
      stack,
      key,
      (await createTask(stack, key, 'import/raw', { file: 'zzz', filename: 'late.txt' })).id,
    );
    const conv = await createTask(stack, key, 'convert', {
      input: src.id,
      output_format: 'pdf',
      engine: 'stubborn',
      timeout: 1,
    });
    const done = await waitTask(stack, key, conv.id, 15_000);

    expect(done).toMatchObject({ status: 'error', code: 'ENGINE_TIMEOUT', result: null });
    expect(stubborn.calls.at(-1)!.aborted).toBe(true);
    expect(await stack.deps.db.taskFile.count({ where: { taskId: conv.id } })).toBe(0);
  });

  it('leaves no task directory in the work dir', async () => {
    await expectNoTaskDirs(stack.env.WORK_DIR!);
  });
});
