// The request a receiver gets: `{"event":…,"job":{…with tasks}}` in the wire shapes of API.md §3,
// from the job as it was at the event, with download URLs signed at send time.
import { serializeJob, type JobView, type TaskView, type Urls } from '@convertd/api';
import type { JobSnapshot } from '@convertd/db';

export function webhookBody(event: string, snapshot: JobSnapshot, urls: Urls): Buffer {
  const { job, tasks } = snapshot;
  const view: JobView = {
    ...job,
    createdAt: new Date(job.createdAt),
    startedAt: date(job.startedAt),
    endedAt: date(job.endedAt),
  };
  const taskViews: TaskView[] = tasks.map((t) => ({
    ...t,
    // Never sent (secrets may live in it): the serializer omits it without include=payload.
    payload: null,
    createdAt: new Date(t.createdAt),
    startedAt: date(t.startedAt),
    endedAt: date(t.endedAt),
  }));

  return Buffer.from(JSON.stringify({ event, job: serializeJob(view, urls, taskViews) }));
}

function date(value: string | null): Date | null {
  return value === null ? null : new Date(value);
}
