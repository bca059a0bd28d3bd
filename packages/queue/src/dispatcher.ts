import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import { TASK_JOB_NAME, type TaskJobData } from './routing';

/** Puts ready tasks on their queues; the BullMQ job id is the task id, so none is queued twice. */
export class Dispatcher {
  private readonly queues = new Map<string, Queue<TaskJobData>>();

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
  ) {}

  async enqueue(ready: readonly { id: string; queue: string }[]): Promise<void> {
    await Promise.all(
      ready.map((task) =>
        this.queue(task.queue).add(
          TASK_JOB_NAME,
          { taskId: task.id },
          { jobId: task.id, removeOnComplete: true, removeOnFail: true, attempts: 1 },
        ),
      ),
    );
  }

  /** True when the queue still holds an entry for this task (waiting, active or delayed). */
  async isQueued(queue: string, taskId: string): Promise<boolean> {
    const job = await this.queue(queue).getJob(taskId);
    if (!job) {
      return false;
    }

    const state = await job.getState();
    return state !== 'completed' && state !== 'failed' && state !== 'unknown';
  }

  queue(name: string): Queue<TaskJobData> {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue<TaskJobData>(name, { connection: this.connection, prefix: this.prefix });
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }

    return queue;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
