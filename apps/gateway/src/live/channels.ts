// The socket.io channels of API.md §5.2 and which of them each state change goes to.
import type { TaskEvent } from '@convertd/queue';

import { isUuid } from '../services/views';

/** A channel a client may subscribe to, parsed; `id` is a job, task or user id. */
export type Channel =
  | { kind: 'job'; id: string }
  | { kind: 'job-tasks'; id: string }
  | { kind: 'task'; id: string }
  | { kind: 'user-jobs'; id: number }
  | { kind: 'user-tasks'; id: number };

const PATTERNS: [RegExp, (id: string) => Channel | null][] = [
  [/^private-job\.([^.]+)$/, (id) => (isUuid(id) ? { kind: 'job', id } : null)],
  [/^private-job\.([^.]+)\.tasks$/, (id) => (isUuid(id) ? { kind: 'job-tasks', id } : null)],
  [/^private-task\.([^.]+)$/, (id) => (isUuid(id) ? { kind: 'task', id } : null)],
  [/^private-user\.(\d{1,9})\.jobs$/, (id) => ({ kind: 'user-jobs', id: Number(id) })],
  [/^private-user\.(\d{1,9})\.tasks$/, (id) => ({ kind: 'user-tasks', id: Number(id) })],
];

/** Null for anything that is not one of our channel names (or names no valid id). */
export function parseChannel(name: string): Channel | null {
  for (const [pattern, make] of PATTERNS) {
    const match = pattern.exec(name);
    if (match?.[1] !== undefined) {
      return make(match[1]);
    }
  }

  return null;
}

/** The socket.io event name and the channels one state change is emitted on. */
export function routeOf(e: TaskEvent): { event: string; channels: string[] } {
  if (e.kind === 'job') {
    return {
      event: `job.${e.event}`,
      channels: [`private-job.${e.id}`, `private-user.${e.userId}.jobs`],
    };
  }

  return {
    event: `task.${e.event}`,
    channels: [
      `private-task.${e.id}`,
      ...(e.jobId === null ? [] : [`private-job.${e.jobId}.tasks`]),
      `private-user.${e.userId}.tasks`,
    ],
  };
}
