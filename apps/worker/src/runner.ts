// Runs one task: claim it, run its operation in a private work dir, record the outcome.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

import { claimTask, completeTask, failTask, type Outcome } from '@convertd/db';
import { creditsFor, isDeprecatedVersion, isProcessingOperation } from '@convertd/api';
import { AppError, isAppError } from '@convertd/errors';
import { deliverOutcome, engineOf } from '@convertd/queue';

import type { WorkerContext } from './context';
import { OPERATIONS } from './operations/index';

/** Stop handles of the tasks running in this process, by task id (cancel, delete). */
export type Running = Map<string, AbortController>;

export async function runTask(ctx: WorkerContext, taskId: string, running: Running): Promise<void> {
  const log = ctx.logger.child({ taskId });
  const claim = await claimTask(
    ctx.db,
    taskId,
    ctx.hostName,
    ctx.config.maxTaskAttempts,
    ctx.route,
    (t) => {
      if (!isProcessingOperation(t.operation)) {
        return null;
      }
      const name = engineOf(t, new Set(ctx.engines.keys()));
      const engine = name === null ? undefined : ctx.engines.get(name);
      return engine ? { name: engine.name, version: engine.version } : null;
    },
  );
  if (claim.kind === 'gone') {
    log.debug('task no longer runnable');
    return;
  }
  if (claim.kind === 'exhausted') {
    log.error('task failed: no attempts left after lost workers');
    await publish(ctx, claim.outcome);
    return;
  }
  await publish(ctx, claim.outcome);

  const { task: claimed } = claim;
  const controller = new AbortController();
  running.set(taskId, controller);
  const timeoutSec = timeoutOf(claimed.payload, ctx);
  const deadline = Date.now() + timeoutSec * 1000;
  const timer = setTimeout(
    () => controller.abort(new AppError('ENGINE_TIMEOUT')),
    timeoutSec * 1000,
  );
  const workDir = path.join(ctx.tasksDir, `${taskId}-${randomUUID().slice(0, 8)}`);
  const started = Date.now();
  const stored: string[] = [];
  let task = claimed;

  try {
    // The one place sealed secrets open: operations read plain `task.payload` fields.
    task = {
      ...claimed,
      payload: ctx.cipher.open(
        claimed.operation,
        claimed.userId,
        claimed.payload,
      ) as typeof claimed.payload,
    };
    const operation = OPERATIONS[task.operation];
    if (!operation) {
      throw new AppError('INVALID_DATA', {
        message: `The operation ${task.operation} is not supported.`,
      });
    }

    await fs.mkdir(workDir, { recursive: true });
    const output = await operation({
      ctx,
      task,
      workDir,
      signal: controller.signal,
      deadline,
      stored,
    });
    // An operation that returned after its deadline (or a cancel) anyway must not finish the task.
    controller.signal.throwIfAborted();
    const runMs = Date.now() - started;
    const outcome = await completeTask(
      ctx.db,
      taskId,
      task.attempt,
      {
        result: output.result ?? {},
        files: output.files,
        engine: output.engine ?? null,
        engineVersion: output.engineVersion ?? null,
        credits: creditsFor(ctx.config.credits, task.operation, runMs),
        message: withDeprecation(ctx, output) ?? null,
      },
      ctx.route,
    );
    if (!outcome) {
      log.info('task ended elsewhere while running; result dropped');
      await ctx.storage.delete(stored);
      return;
    }

    if (outcome.discarded) {
      log.info({ operation: task.operation }, 'sandbox import refused: file not whitelisted');
      await ctx.storage.delete(outcome.discarded);
    } else {
      log.info({ operation: task.operation, durationMs: runMs }, 'task finished');
    }
    await publish(ctx, outcome);
  } catch (err) {
    await ctx.storage.delete(stored).catch(() => undefined);
    const reason = controller.signal.aborted ? controller.signal.reason : undefined;
    const error = isAppError(reason)
      ? reason
      : isAppError(err)
        ? err
        : new AppError('INTERNAL_ERROR', { cause: err });
    if (error.code === 'INTERNAL_ERROR') {
      log.error({ err }, 'task failed unexpectedly');
    } else {
      log.info(
        { code: error.code, details: error.details, operation: task.operation },
        'task failed',
      );
    }
    const outcome = await failTask(
      ctx.db,
      taskId,
      task.attempt,
      { code: error.code, message: taskMessage(error) },
      ctx.route,
    );
    if (outcome) {
      await publish(ctx, outcome);
    }
  } finally {
    clearTimeout(timer);
    running.delete(taskId);
    await fs
      .rm(workDir, { recursive: true, force: true })
      .catch((err: unknown) => log.warn({ err }, 'work dir not removed'));
  }
}

/**
 * A task has a message but no `errors` map: an engine's field errors ("The page range selects no
 * page.") become the message, so the user learns which option was wrong.
 */
function taskMessage(error: AppError): string {
  const fields = Object.entries(error.errors ?? {});
  if (fields.length === 0) {
    return error.message;
  }
  return fields.map(([field, messages]) => `${field}: ${messages.join(' ')}`).join(' ');
}

/** The task's message, plus a warning when it ran on a version the operator deprecated. */
function withDeprecation(
  ctx: WorkerContext,
  output: { engine?: string; engineVersion?: string; message?: string },
): string | undefined {
  if (
    !output.engine ||
    !output.engineVersion ||
    !isDeprecatedVersion(output.engine, output.engineVersion, ctx.config.engineDeprecatedVersions)
  ) {
    return output.message;
  }
  const warning = `The engine version ${output.engine} ${output.engineVersion} is deprecated and will be removed; pin another engine_version.`;
  return output.message ? `${output.message} ${warning}` : warning;
}

function timeoutOf(payload: Record<string, unknown>, ctx: WorkerContext): number {
  // Validated at creation: a positive integer, or a string of one (loosely typed clients).
  const given = Number(payload.timeout);
  const asked = Number.isInteger(given) && given > 0 ? given : ctx.config.defaultTaskTimeoutSec;
  return Math.min(asked, ctx.config.maxTaskTimeoutSec);
}

export async function publish(ctx: WorkerContext, outcome: Outcome): Promise<void> {
  await deliverOutcome(ctx, outcome);
}
