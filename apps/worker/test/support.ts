// Helpers shared by the worker's integration tests: polling the API, downloads, a stack driven
// through the official node SDK, a local HTTP server that records what it receives, and a look
// at the worker's work dir.
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

import { ConvertdCloudConvert } from '@convertd/cloudconvert-node';
import { afterAll, beforeAll, expect } from 'vitest';

import { api, eventually, startStack, type Stack } from '../../../test/harness';

export type Json = Record<string, any>;

const TERMINAL = new Set(['finished', 'error']);

/** Polls a task until it is finished or error; fails after `timeoutMs`. */
export async function waitTask(
  stack: Stack,
  key: string,
  id: string,
  timeoutMs = 30_000,
): Promise<Json> {
  return eventually(async () => {
    const res = await api(stack, key, 'GET', `/v2/tasks/${id}`);
    return TERMINAL.has(res.json?.data?.status) ? (res.json.data as Json) : null;
  }, timeoutMs);
}

/** Polls a task until it reaches `status`. */
export async function waitStatus(
  stack: Stack,
  key: string,
  id: string,
  status: string,
  timeoutMs = 30_000,
): Promise<Json> {
  return eventually(async () => {
    const res = await api(stack, key, 'GET', `/v2/tasks/${id}`);
    return res.json?.data?.status === status ? (res.json.data as Json) : null;
  }, timeoutMs);
}

/** Polls a job until it is finished or error; fails after `timeoutMs`. */
export async function waitJob(
  stack: Stack,
  key: string,
  id: string,
  timeoutMs = 30_000,
): Promise<Json> {
  return eventually(async () => {
    const res = await api(stack, key, 'GET', `/v2/jobs/${id}`);
    return TERMINAL.has(res.json?.data?.status) ? (res.json.data as Json) : null;
  }, timeoutMs);
}

export async function createJob(
  stack: Stack,
  key: string,
  tasks: Json,
  extra: Json = {},
): Promise<Json> {
  const res = await api(stack, key, 'POST', '/v2/jobs', { tasks, ...extra });
  if (res.status !== 201) {
    throw new Error(`job not created: ${res.status} ${res.text}`);
  }

  return res.json.data as Json;
}

export async function createTask(
  stack: Stack,
  key: string,
  operation: string,
  body: Json,
): Promise<Json> {
  const res = await api(stack, key, 'POST', `/v2/${operation}`, body);
  if (res.status !== 201) {
    throw new Error(`task not created: ${res.status} ${res.text}`);
  }

  return res.json.data as Json;
}

export function byName(job: Json, name: string): Json {
  const task = (job.tasks as Json[]).find((t) => t.name === name);
  if (!task) {
    throw new Error(`no task ${name} in job`);
  }

  return task;
}

/** Downloads one export/url file; throws unless it answers 200. */
export async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (res.status !== 200) {
    throw new Error(`download answered ${res.status}`);
  }

  return Buffer.from(await res.arrayBuffer());
}

/** An export/url task's files, downloaded in result order. */
export async function exportedFiles(
  task: Json,
): Promise<{ filename: string; size: number; bytes: Buffer }[]> {
  const files = (task.result?.files ?? []) as { filename: string; size: number; url: string }[];
  return Promise.all(
    files.map(async (f) => ({ filename: f.filename, size: f.size, bytes: await download(f.url) })),
  );
}

export type SdkJob = Awaited<ReturnType<ConvertdCloudConvert['jobs']['wait']>>;
export type SdkTask = SdkJob['tasks'][number];

/** One downloaded export: its name in the result, where it was saved and its bytes. */
export interface Exported {
  filename: string;
  file: string;
  bytes: Buffer;
}

/** A stack with a user, that user's SDK client and a scratch dir; filled in by `beforeAll`. */
export interface SdkStack {
  stack: Stack;
  key: string;
  cc: ConvertdCloudConvert;
  tmp: string;
  /** Creates the job, uploads `uploads` (task name -> [file, name]) and waits for its end. */
  runJob: (
    tasks: Record<string, Record<string, unknown>>,
    uploads?: Record<string, [file: string, name: string]>,
  ) => Promise<SdkJob>;
  /** Uploads `file` as `name` into a job of `upload` -> `work` (`task`) -> `out` (export/url). */
  runFile: (file: string, name: string, task: Record<string, unknown>) => Promise<SdkJob>;
  /**
   * The files of every export task (or of export task `name` only), each downloaded into a
   * dir of its own under `tmp`, in result order.
   */
  exports: (job: SdkJob, name?: string) => Promise<Exported[]>;
}

/** Starts a stack for this test file (stopped after it) and gives its SDK client and helpers. */
export function sdkStack(name: string): SdkStack {
  const sdk: SdkStack = {
    stack: undefined as never,
    key: '',
    cc: undefined as never,
    tmp: '',
    runJob: async (tasks, uploads = {}) => {
      const job = await sdk.cc.jobs.create({ tasks } as never);
      for (const [task, [file, filename]] of Object.entries(uploads)) {
        const upload = job.tasks.find((t) => t.name === task)!;
        await sdk.cc.tasks.upload(upload, fsSync.createReadStream(file), filename);
      }

      return sdk.cc.jobs.wait(job.id);
    },
    runFile: (file, filename, task) =>
      sdk.runJob(
        {
          upload: { operation: 'import/upload' },
          work: { input: 'upload', ...task },
          out: { operation: 'export/url', input: 'work' },
        },
        { upload: [file, filename] },
      ),
    exports: async (job, task) => {
      const entries =
        task === undefined
          ? sdk.cc.jobs.getExportUrls(job)
          : (job.tasks.find((t) => t.name === task)?.result?.files ?? []);
      const files: Exported[] = [];
      for (const { filename, url } of entries) {
        const res = await fetch(url!);
        expect(res.status).toBe(200);
        const bytes = Buffer.from(await res.arrayBuffer());
        const file = path.join(fsSync.mkdtempSync(path.join(sdk.tmp, 'export-')), filename);
        fsSync.writeFileSync(file, bytes);
        files.push({ filename, file, bytes });
      }

      return files;
    },
  };

  beforeAll(async () => {
    sdk.stack = await startStack();
    sdk.key = (await sdk.stack.createUser()).key;
    sdk.cc = new ConvertdCloudConvert(sdk.key, {
      url: sdk.stack.url,
      syncUrl: sdk.stack.syncUrl,
    });
    sdk.tmp = fsSync.mkdtempSync(path.join(os.tmpdir(), `convertd-${name}-`));
  });

  afterAll(async () => {
    await sdk.stack?.close();
    if (sdk.tmp !== '') {
      fsSync.rmSync(sdk.tmp, { recursive: true, force: true });
    }
  });

  return sdk;
}

/** The job finished; otherwise the failing tasks' codes and messages make the test's message. */
export function expectFinished(job: SdkJob): void {
  const failed = job.tasks
    .filter((t) => t.status !== 'finished')
    .map((t) => `${t.name}: ${t.code ?? ''} ${t.message ?? ''}`);
  expect(failed).toEqual([]);
  expect(job.status).toBe('finished');
}

/** The task called `name` of the job. */
export function taskOf(job: SdkJob, name: string): SdkTask {
  return job.tasks.find((t) => t.name === name)!;
}

/** Entries of the worker's WORK_DIR that are task dirs (LibreOffice keeps its `profiles` there). */
/** Warm engines' own dirs beside the task dirs (profiles, browser), kept while the worker runs. */
const ENGINE_DIRS = new Set(['chrome', 'libreoffice']);

export async function taskDirs(workDir: string): Promise<string[]> {
  const tasks = path.join(workDir, 'tasks');
  const prefixes = await fs.readdir(tasks).catch(() => [] as string[]);
  const workers = (
    await Promise.all(
      prefixes.map(async (p) =>
        (await fs.readdir(path.join(tasks, p)).catch(() => [] as string[])).map((w) => `${p}/${w}`),
      ),
    )
  ).flat();
  const dirs = await Promise.all(
    workers.map(async (w) =>
      (await fs.readdir(path.join(tasks, w)).catch(() => [] as string[]))
        .filter((d) => !ENGINE_DIRS.has(d))
        .map((d) => `${w}/${d}`),
    ),
  );
  const other = (await fs.readdir(workDir).catch(() => [] as string[])).filter(
    (e) => e !== 'profiles' && e !== 'tasks',
  );
  return [...other, ...dirs.flat()];
}

/** Waits until no task dir is left: the runner removes it right after recording the outcome. */
export async function expectNoTaskDirs(workDir: string, timeoutMs = 5000): Promise<void> {
  try {
    await eventually(async () => (await taskDirs(workDir)).length === 0, timeoutMs);
  } catch {
    throw new Error(`task dirs left in ${workDir}: ${(await taskDirs(workDir)).join(', ')}`);
  }
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface TestServer {
  origin: string;
  requests: Recorded[];
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** An HTTP server on 127.0.0.1 that records every request before `handler` answers it. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
