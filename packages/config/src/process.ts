import type { Logger } from './logger';

/**
 * Runs `stop` on the first SIGINT or SIGTERM, then exits. Repeated signals (a process group and
 * a supervisor both forwarding one) must not cut the graceful stop short: only the first counts.
 */
export function onShutdown(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      return;
    }

    stopping = true;
    void stop(signal).finally(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Start-up errors an operator fixes by hand: printed as one line, without a stack. */
const OPERATOR_ERRORS = new Set([
  'ConfigError',
  'DatabaseUnreachableError',
  'RedisUnreachableError',
]);

/** Reports why `service` could not start and exits non-zero. */
export function exitOnStartupFailure(service: string, logger: Logger, err: unknown): never {
  if (err instanceof Error && OPERATOR_ERRORS.has(err.name)) {
    // eslint-disable-next-line no-console -- one plain line for the operator, by design
    console.error(`convertd ${service}: ${err.message}`);
  } else {
    logger.fatal({ err }, `${service} failed to start`);
  }
  process.exit(1);
}
