// Delivers the webhook outbox. Any number of dispatchers may run (one per worker process): each
// claims due rows with SKIP LOCKED, so a row is sent by one of them at a time, and a row whose
// dispatcher died is claimed again once its lease passed (at-least-once).
import type { Config, Logger } from '@convertd/config';
import {
  claimDeliveries,
  getOrCreateSetting,
  recordAttempt,
  type AttemptResult,
  type ClaimedDelivery,
  type Db,
} from '@convertd/db';
import { isAppError } from '@convertd/errors';
import { postUrl, type HostLookup } from '@convertd/outbound';
import { pathSigner } from '@convertd/storage';
import { randomBytes } from 'node:crypto';

import { webhookBody } from './body';
import { secretFor } from './secrets';
import { signPayload } from './signature';

const BATCH = 10;
/** A claim outlives the attempt's deadline by this much before another dispatcher may take it. */
const LEASE_MARGIN_MS = 30_000;
const USER_AGENT = 'convertd-webhooks/1.0';

export type DispatcherConfig = Pick<
  Config,
  | 'allowPrivateUrls'
  | 'publicUrl'
  | 'port'
  | 'signedUrlTtlSec'
  | 'webhookRetries'
  | 'webhookRetryDelayMs'
  | 'webhookTimeoutMs'
  | 'webhookPollMs'
>;

export interface DispatcherOptions {
  /** Replaces the system resolver (tests). */
  lookup?: HostLookup;
}

export class WebhookDispatcher {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  /** A wake-up heard during a round: the next round starts without the poll's pause. */
  private woken = false;
  private urlSecret: string | null = null;

  constructor(
    private readonly db: Db,
    private readonly config: DispatcherConfig,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions = {},
  ) {}

  start(): void {
    if (this.running) {
      return;
    }

    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming; resolves once the attempts in flight were recorded. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    this.loop = null;
  }

  /** Looks at the outbox now instead of at the next poll (a job event was heard). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** One round: claims due deliveries (or only `ids`) and sends them; returns how many. */
  async deliverDue(ids?: number[]): Promise<number> {
    const claims = await claimDeliveries(this.db, {
      limit: BATCH,
      leaseMs: this.config.webhookTimeoutMs + LEASE_MARGIN_MS,
      ...(ids ? { ids } : {}),
    });
    await Promise.all(claims.map((claim) => this.deliver(claim)));

    return claims.length;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let sent = 0;
      try {
        sent = await this.deliverDue();
      } catch (err) {
        this.logger.warn({ err }, 'webhook outbox round failed');
      }
      // A round that sent anything goes again at once: a sent event may have been the one
      // the next event of its job waited for (claimDeliveries sends them in order).
      if (sent === 0 && this.running && !this.woken) {
        await this.sleep(this.config.webhookPollMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }

  private async deliver(claim: ClaimedDelivery): Promise<void> {
    const started = Date.now();
    let result: AttemptResult;
    try {
      result = await this.attempt(claim, started);
    } catch (err) {
      // Our own failure (database, a bad snapshot): try again later like a network error.
      this.logger.error({ err, deliveryId: claim.id }, 'webhook delivery crashed');
      result = this.retryOrFail(claim, null, 'The delivery failed inside convertd.', started);
    }

    const recorded = await recordAttempt(this.db, claim, result).catch((err: unknown) => {
      this.logger.warn({ err, deliveryId: claim.id }, 'recording a webhook attempt failed');
      return false;
    });
    this.logger.info(
      {
        deliveryId: claim.id,
        jobId: claim.jobId,
        event: claim.event,
        attempt: claim.attempt,
        host: hostOf(claim.url),
        statusCode: result.statusCode,
        outcome: result.outcome,
        recorded,
      },
      'webhook attempt',
    );
  }

  private async attempt(claim: ClaimedDelivery, started: number): Promise<AttemptResult> {
    const choice = await secretFor(this.db, claim);
    if ('refused' in choice) {
      return { outcome: 'failed', statusCode: null, error: choice.refused, durationMs: 0 };
    }

    const body = webhookBody(claim.event, claim.snapshot, {
      origin: this.config.publicUrl ?? `http://localhost:${this.config.port}`,
      sign: pathSigner(await this.signingKey(), this.config.signedUrlTtlSec),
    });
    const headers = {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'cloudconvert-signature': signPayload(choice.secret, body),
    };
    try {
      const { status } = await postUrl(claim.url, body, {
        allowPrivate: this.config.allowPrivateUrls,
        headers,
        timeoutMs: this.config.webhookTimeoutMs,
        ...(this.options.lookup ? { lookup: this.options.lookup } : {}),
      });
      const durationMs = Date.now() - started;
      if (status >= 200 && status < 300) {
        return { outcome: 'delivered', statusCode: status, error: null, durationMs };
      }
      if (status === 410) {
        const error = 'The receiver answered 410 Gone: the webhook is disabled.';
        return { outcome: 'failed', statusCode: status, error, durationMs, disable: true };
      }
      if (status >= 500) {
        return this.retryOrFail(claim, status, `The receiver answered HTTP ${status}.`, started);
      }

      const error = `The receiver answered HTTP ${status}.`;
      return { outcome: 'failed', statusCode: status, error, durationMs };
    } catch (err) {
      const message = isAppError(err) ? err.message : 'The request failed.';
      if (isAppError(err) && err.code === 'URL_NOT_ALLOWED') {
        return { outcome: 'failed', statusCode: null, error: message, durationMs: 0 };
      }

      return this.retryOrFail(claim, null, message, started);
    }
  }

  /** Network errors and 5xx: retried `webhookRetries` times, the delay doubling each time. */
  private retryOrFail(
    claim: ClaimedDelivery,
    statusCode: number | null,
    error: string,
    started: number,
  ): AttemptResult {
    const durationMs = Date.now() - started;
    if (claim.attempt > this.config.webhookRetries) {
      return { outcome: 'failed', statusCode, error, durationMs };
    }

    const delay = this.config.webhookRetryDelayMs * 2 ** (claim.attempt - 1);
    return {
      outcome: 'retry',
      statusCode,
      error,
      durationMs,
      retryAt: new Date(Date.now() + delay),
    };
  }

  /** The key of the download URLs in bodies: the one the gateway verifies them with. */
  private async signingKey(): Promise<string> {
    this.urlSecret ??= await getOrCreateSetting(this.db, 'url_signing_secret', () =>
      randomBytes(32).toString('hex'),
    );
    return this.urlSecret;
  }
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
