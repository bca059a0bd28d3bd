// The price of a task: what the operator set per started minute of its run (CREDITS_PER_MINUTE,
// CREDITS_PER_OPERATION). By default, as CloudConvert: imports and exports are free, a
// processing task costs 1 credit per started minute of engine time.
import { isProcessingOperation } from './operations';

export interface CreditRates {
  readonly perMinute: number;
  readonly perOperation: Readonly<Record<string, number>>;
}

export function creditsFor(rates: CreditRates, operation: string, runMs: number): number {
  const rate =
    rates.perOperation[operation] ?? (isProcessingOperation(operation) ? rates.perMinute : 0);
  if (rate === 0) {
    return 0;
  }

  return rate * Math.max(1, Math.ceil(runMs / 60_000));
}
