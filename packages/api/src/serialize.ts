// The wire shapes of API.md §3. Single objects go out as compact `{"data":…}` (the Java SDK cuts
// the first 8 bytes), optional keys only when `include=` asks, timestamps without fractions.
import { isProcessingOperation } from './operations';
import { maskSecrets } from './secrets/fields';

export interface TaskView {
  id: string;
  jobId: string | null;
  name: string | null;
  operation: string;
  status: string;
  code: string | null;
  message: string | null;
  percent: number;
  payload: unknown;
  result: unknown;
  engine: string | null;
  engineVersion: string | null;
  credits: number | null;
  priority: number;
  hostName: string | null;
  retryOfTaskId: string | null;
  copyOfTaskId: string | null;
  userId: number;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
  dependsOnTaskIds: string[];
}

export interface JobView {
  id: string;
  tag: string | null;
  status: string;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
}

export interface UserView {
  id: number;
  username: string;
  email: string;
  credits: number;
  createdAt: Date;
}

/**
 * How our own URLs reach clients: results store bare paths (`/upload/<task>`,
 * `/download/<task>/<file>/<name>`), signed afresh and made absolute each time they are shown,
 * so a URL never outlives the moment it was handed out by more than the signing TTL.
 */
export interface Urls {
  origin: string;
  sign(path: string): string;
}

export interface TaskExtras {
  include?: ReadonlySet<string>;
  retries?: TaskView[];
  dependsOnTasks?: TaskView[];
  job?: JobView;
}

/** `2019-06-01T00:35:33+00:00`, the form every SDK parses. */
export function timestamp(date: Date | null): string | null {
  return date === null ? null : `${date.toISOString().slice(0, 19)}+00:00`;
}

export function serializeTask(
  task: TaskView,
  urls: Urls,
  extras: TaskExtras = {},
): Record<string, unknown> {
  const include = extras.include ?? new Set<string>();
  const out: Record<string, unknown> = { id: task.id };
  if (task.jobId !== null) {
    out.name = task.name;
  }
  out.job_id = task.jobId;
  out.status = task.status;
  out.credits = task.credits;
  out.code = task.code;
  out.message = task.message;
  out.percent = task.percent;
  out.operation = task.operation;
  if (isProcessingOperation(task.operation)) {
    out.engine = task.engine;
    out.engine_version = task.engineVersion;
  }
  if (include.has('payload')) {
    // Every response, event and webhook body comes through here: secrets never leave masked.
    out.payload = maskSecrets(task.operation, task.payload);
  }
  out.result = absoluteResult(task.result, urls);
  out.created_at = timestamp(task.createdAt);
  out.started_at = timestamp(task.startedAt);
  out.ended_at = timestamp(task.endedAt);
  out.retry_of_task_id = task.retryOfTaskId;
  out.copy_of_task_id = task.copyOfTaskId;
  out.user_id = task.userId;
  out.priority = task.priority;
  out.host_name = task.hostName;
  out.storage = null;
  out.depends_on_task_ids = task.dependsOnTaskIds;
  if (include.has('retries')) {
    out.retries = (extras.retries ?? []).map((t) => serializeTask(t, urls));
  }
  if (include.has('depends_on_tasks')) {
    out.depends_on_tasks = (extras.dependsOnTasks ?? []).map((t) => serializeTask(t, urls));
  }
  if (include.has('job') && extras.job) {
    out.job = serializeJob(extras.job, urls);
  }
  out.links = { self: `${urls.origin}/v2/tasks/${task.id}` };

  return out;
}

export function serializeJob(
  job: JobView,
  urls: Urls,
  tasks?: TaskView[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: job.id,
    tag: job.tag,
    status: job.status,
    created_at: timestamp(job.createdAt),
    started_at: timestamp(job.startedAt),
    ended_at: timestamp(job.endedAt),
  };
  if (tasks) {
    out.tasks = tasks.map((t) => serializeTask(t, urls));
  }
  out.links = { self: `${urls.origin}/v2/jobs/${job.id}` };

  return out;
}

export function serializeUser(user: UserView, origin: string): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    created_at: timestamp(user.createdAt),
    credits: user.credits,
    paying: false,
    task_priority: null,
    tasks_per_minute: null,
    links: { self: `${origin}/v2/users/${user.id}` },
  };
}

/** Compact JSON, `data` first and only. */
export function envelope(data: unknown): string {
  return JSON.stringify({ data });
}

export interface Page {
  origin: string;
  path: string;
  page: number;
  perPage: number;
  hasNext: boolean;
  /** Query parameters to carry into the page links (filters, include). */
  query: Record<string, string>;
}

/** Laravel's simple paginator: no total, `last` null, absolute `next`. */
export function listEnvelope(items: unknown[], page: Page): string {
  const link = (n: number) => {
    const params = new URLSearchParams({
      ...page.query,
      per_page: String(page.perPage),
      page: String(n),
    });
    return `${page.origin}${page.path}?${params.toString()}`;
  };
  const from = items.length > 0 ? (page.page - 1) * page.perPage + 1 : null;

  return JSON.stringify({
    data: items,
    links: {
      first: link(1),
      last: null,
      prev: page.page > 1 ? link(page.page - 1) : null,
      next: page.hasNext ? link(page.page + 1) : null,
    },
    meta: {
      current_page: page.page,
      from,
      path: `${page.origin}${page.path}`,
      per_page: page.perPage,
      to: from === null ? null : from + items.length - 1,
    },
  });
}

/** Stored results keep our own URLs as bare paths; clients get them signed, on their origin. */
function absoluteResult(result: unknown, urls: Urls): unknown {
  if (result === null || typeof result !== 'object') {
    return result ?? null;
  }

  const copy = { ...(result as Record<string, unknown>) };
  const form = copy.form as { url?: unknown; parameters?: unknown } | undefined;
  if (form && typeof form.url === 'string' && form.url.startsWith('/')) {
    copy.form = { ...form, url: urls.origin + urls.sign(form.url) };
  }
  if (Array.isArray(copy.files)) {
    copy.files = copy.files.map((f: Record<string, unknown>) =>
      typeof f.url === 'string' && f.url.startsWith('/')
        ? { ...f, url: urls.origin + urls.sign(f.url) }
        : f,
    );
  }

  return copy;
}
