// The time limit of one Chrome task, and what its failures tell the user.
import { AppError, isAppError } from '@convertd/errors';

import type { EgressIncident } from './egress-proxy';

/**
 * Ends a task at its deadline, on cancel or when the renderer crashes: `race` rejects at once and
 * `signal` tells the cleanup to close the browser context, which ends whatever was still running.
 */
export class TaskLimit {
  /** What the task is doing, for the message of a timeout. */
  phase = 'The page could not be rendered before the deadline.';
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort: () => void;

  constructor(
    private readonly deadlineAt: number,
    private readonly external: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(
      () => this.stop(new AppError('ENGINE_TIMEOUT', { message: this.phase })),
      Math.max(0, deadlineAt - Date.now()),
    );
    this.onAbort = () => this.stop(new AppError('ENGINE_CANCELLED', { cause: external?.reason }));
    if (external?.aborted === true) {
      this.onAbort();
    } else {
      external?.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get remainingMs(): number {
    return Math.max(0, this.deadlineAt - Date.now());
  }

  stop(reason: AppError): void {
    if (!this.controller.signal.aborted) {
      this.controller.abort(reason);
    }
  }

  /** Settles with `work`, or rejects with the stop reason as soon as the task is stopped. */
  async race<T>(work: Promise<T>): Promise<T> {
    // The work is abandoned on a stop; its own rejection then has no one left to hear it.
    work.catch(() => undefined);
    const signal = this.controller.signal;
    if (signal.aborted) {
      throw signal.reason as AppError;
    }

    let onStop: (() => void) | undefined;
    const stopped = new Promise<never>((_resolve, reject) => {
      onStop = () => reject(signal.reason as AppError);
      signal.addEventListener('abort', onStop, { once: true });
    });
    stopped.catch(() => undefined);
    try {
      return await Promise.race([work, stopped]);
    } finally {
      if (onStop !== undefined) {
        signal.removeEventListener('abort', onStop);
      }
    }
  }

  /** The stop reason when the task was stopped, else undefined. */
  get reason(): AppError | undefined {
    return this.controller.signal.aborted ? (this.controller.signal.reason as AppError) : undefined;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.external?.removeEventListener('abort', this.onAbort);
  }
}

/** Why the page at `host` did not load, from what the proxy saw and Chrome's `net::` code. */
export function navigationFailure(
  err: unknown,
  host: string,
  incidents: readonly EgressIncident[],
): AppError {
  if (isAppError(err)) {
    return err;
  }

  const incident = incidents[0];
  if (incident !== undefined) {
    return incidentFailure(incident, err);
  }

  const code = /net::(ERR_[A-Z0-9_]+)/.exec(String(err))?.[1] ?? 'ERR_FAILED';
  const fail = (message: string): AppError =>
    new AppError('IMPORT_FAILED', { message, cause: err, details: { host, netError: code } });
  if (code === 'ERR_NAME_NOT_RESOLVED') {
    return fail(`The host ${host} could not be resolved.`);
  }

  if (code === 'ERR_CONNECTION_REFUSED') {
    return fail(`The host ${host} refused the connection.`);
  }

  if (/^ERR_(CERT|SSL)_/.test(code)) {
    return fail(`The TLS certificate of ${host} could not be verified.`);
  }

  if (code === 'ERR_TOO_MANY_REDIRECTS') {
    return fail('The URL redirected too many times.');
  }

  if (/^ERR_(EMPTY_RESPONSE|CONNECTION_CLOSED|CONNECTION_RESET)$/.test(code)) {
    return fail(`The host ${host} closed the connection without an answer.`);
  }

  if (code === 'ERR_ABORTED') {
    return fail('The URL did not lead to a page that can be shown (a file download?).');
  }

  if (/^ERR_(BLOCKED_BY_CLIENT|ACCESS_DENIED|UNSAFE_PORT)$/.test(code)) {
    return new AppError('URL_NOT_ALLOWED', {
      message: 'The browser may not load this URL.',
      cause: err,
      details: { host, netError: code },
    });
  }

  return fail(`The page at ${host} could not be loaded (${code}).`);
}

function incidentFailure(incident: EgressIncident, cause: unknown): AppError {
  const { host } = incident;
  if (incident.kind === 'refused') {
    return new AppError('URL_NOT_ALLOWED', {
      message: 'The URL or one of its redirects points to an address that is not allowed.',
      cause,
      details: { host },
    });
  }

  const messages: Record<string, string> = {
    ECONNREFUSED: `The host ${host} refused the connection.`,
    ETIMEDOUT: `The connection to ${host} timed out.`,
    EHOSTUNREACH: `The host ${host} could not be reached.`,
    ENETUNREACH: `The host ${host} could not be reached.`,
    ECONNRESET: `The host ${host} closed the connection without an answer.`,
  };
  const message =
    incident.kind === 'unresolved'
      ? `The host ${host} could not be resolved.`
      : (messages[incident.code ?? ''] ?? `The connection to ${host} failed.`);

  return new AppError('IMPORT_FAILED', { message, cause, details: { host, code: incident.code } });
}
