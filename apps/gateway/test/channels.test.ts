// Channel names a subscription is granted for: exactly the names events are emitted on.
import { describe, expect, it } from 'vitest';

import { parseChannel, routeOf } from '../src/live/channels';

const JOB = '3f0c2a51-6c1e-4d4b-9a4f-0b7c1d2e3f40';

describe('parseChannel', () => {
  it('takes the names routeOf emits on', () => {
    const { channels } = routeOf({
      kind: 'job',
      event: 'finished',
      id: JOB,
      jobId: null,
      userId: 7,
      status: 'finished',
    });
    expect(channels).toEqual([`private-job.${JOB}`, 'private-user.7.jobs']);
    expect(channels.map(parseChannel)).toEqual([
      { kind: 'job', id: JOB },
      { kind: 'user-jobs', id: 7 },
    ]);
    expect(parseChannel(`private-job.${JOB}.tasks`)).toEqual({ kind: 'job-tasks', id: JOB });
    expect(parseChannel(`private-task.${JOB}`)).toEqual({ kind: 'task', id: JOB });
    expect(parseChannel('private-user.7.tasks')).toEqual({ kind: 'user-tasks', id: 7 });
  });

  it('refuses spellings no event is ever emitted on', () => {
    for (const name of [
      `private-job.${JOB.toUpperCase()}`,
      `private-task.${JOB.toUpperCase()}`,
      `private-job.${JOB.toUpperCase()}.tasks`,
      'private-user.07.jobs',
      'private-user.0.tasks',
      'private-user.1234567890.jobs',
    ]) {
      expect(parseChannel(name), name).toBeNull();
    }
  });
});
