// Helpers shared by the worker's integration tests: polling the API, downloads, a local HTTP
// server that records what it receives, and a look at the worker's work dir.
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

import { api, eventually, type Stack } from '../../../test/harness';

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

/** Entries of the worker's WORK_DIR that are task dirs (LibreOffice keeps its `profiles` there). */
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
      (await fs.readdir(path.join(tasks, w)).catch(() => [] as string[])).map((d) => `${w}/${d}`),
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
