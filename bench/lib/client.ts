// The bench's convertd client: plain HTTP as any SDK speaks it, bodies streamed both ways.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface TaskView {
  name: string;
  operation: string;
  status: string;
  message?: string | null;
  code?: string | null;
  result?: {
    form?: { url: string; parameters: Record<string, string> };
    files?: { filename: string; url?: string; size?: number }[];
  } | null;
}

export interface JobView {
  id: string;
  status: string;
  tasks: TaskView[];
}

const AGENT = new http.Agent({ keepAlive: true, maxSockets: 256 });
/** No request of the bench may hang a section: a job that never ends fails its file instead. */
const REQUEST_TIMEOUT_MS = 300_000;

export class ConvertdClient {
  constructor(
    readonly url: string,
    readonly syncUrl: string,
    private readonly key: string,
    /** Aborts every request in flight (the section's deadline, Ctrl-C). */
    private readonly signal: AbortSignal = new AbortController().signal,
  ) {}

  private deadline(): AbortSignal {
    return AbortSignal.any([this.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
  }

  /** POST /v2/jobs on the main origin (answers at once) or the sync one (once the job ends). */
  async createJob(tasks: Record<string, unknown>, sync = false): Promise<JobView> {
    return this.json('POST', `${sync ? this.syncUrl : this.url}/v2/jobs`, { tasks });
  }

  /** GET of the job on the sync origin, which waits until the job ends. */
  async waitJob(id: string): Promise<JobView> {
    return this.json('GET', `${this.syncUrl}/v2/jobs/${id}`);
  }

  /** Sends one file to an import/upload task's form, as multipart/form-data, streamed. */
  async upload(task: TaskView, filename: string, body: Readable, size: number): Promise<void> {
    const form = task.result?.form;
    if (!form) {
      throw new Error(`task ${task.name} has no upload form`);
    }

    const boundary = `----convertd-bench-${randomBytes(8).toString('hex')}`;
    const fields = Object.entries(form.parameters)
      .map(
        ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
      )
      .join('');
    const head = Buffer.from(
      `${fields}--${boundary}\r\nContent-Disposition: form-data; name="file"; ` +
        `filename="${filename.replace(/"/g, '%22')}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(form.url, {
        method: 'POST',
        agent: AGENT,
        signal: this.deadline(),
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + size + tail.length,
        },
      });
      req.once('error', reject);
      req.once('response', (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      });
      req.write(head);
      body.once('error', (err) => req.destroy(err));
      body.on('end', () => req.end(tail));
      body.pipe(req, { end: false });
    });
    if (status !== 201 && status !== 200) {
      throw new Error(`upload answered ${status}`);
    }
  }

  /** Downloads an export URL to `dest` (or nowhere), streamed; the number of bytes. */
  async download(url: string, dest?: string): Promise<number> {
    const res = await fetch(url, { signal: this.deadline() });
    if (res.status !== 200 || !res.body) {
      throw new Error(`download answered ${res.status}`);
    }

    let bytes = 0;
    const counted = Readable.fromWeb(res.body).on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    if (dest) {
      await pipeline(counted, fs.createWriteStream(dest));
    } else {
      counted.resume();
      await new Promise<void>((resolve, reject) => {
        counted.once('end', resolve);
        counted.once('error', reject);
      });
    }

    return bytes;
  }

  private async json(method: string, url: string, body?: unknown): Promise<JobView> {
    const res = await fetch(url, {
      method,
      signal: this.deadline(),
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300) {
      throw new Error(
        `${method} ${new URL(url).pathname} answered ${res.status}: ${text.slice(0, 300)}`,
      );
    }

    return (JSON.parse(text) as { data: JobView }).data;
  }
}

export function taskNamed(job: JobView, name: string): TaskView {
  const task = job.tasks.find((t) => t.name === name);
  if (!task) {
    throw new Error(`job ${job.id} has no task ${name}`);
  }

  return task;
}

/** Throws with the first failed task's code and message unless the job finished. */
export function assertFinished(job: JobView): void {
  if (job.status === 'finished') {
    return;
  }

  const failed = job.tasks.find((t) => t.status === 'error');
  throw new Error(
    failed
      ? `${failed.name}: ${failed.code ?? 'ERROR'} ${failed.message ?? ''}`.trim()
      : `job ended ${job.status}`,
  );
}

/** The URL of the first file an export/url task gave. */
export function exportUrl(job: JobView, name: string): string {
  const url = taskNamed(job, name).result?.files?.[0]?.url;
  if (!url) {
    throw new Error(`export ${name} has no file`);
  }

  return url;
}
