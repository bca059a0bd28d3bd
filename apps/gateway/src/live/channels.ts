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

/**
 * Only the names events are emitted on: `private-job.<UUID>` in capitals or `private-user.01.jobs`
 * would be granted and then never hear anything (clients match the channel name exactly).
 */
const canonicalUuid = (id: string) => isUuid(id) && id === id.toLowerCase();

const PATTERNS: [RegExp, (id: string) => Channel | null][] = [
  [/^private-job\.([^.]+)$/, (id) => (canonicalUuid(id) ? { kind: 'job', id } : null)],
  [/^private-job\.([^.]+)\.tasks$/, (id) => (canonicalUuid(id) ? { kind: 'job-tasks', id } : null)],
  [/^private-task\.([^.]+)$/, (id) => (canonicalUuid(id) ? { kind: 'task', id } : null)],
  [/^private-user\.([1-9]\d{0,8})\.jobs$/, (id) => ({ kind: 'user-jobs', id: Number(id) })],
  [/^private-user\.([1-9]\d{0,8})\.tasks$/, (id) => ({ kind: 'user-tasks', id: Number(id) })],
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
