// Positions in a video as users write them: seconds ("12.5") or [HH:]MM:SS[.ms] ("01:02.5").
import { invalidOption } from '../option-values';

const SECONDS = /^\d+(?:\.\d+)?$/;
const CLOCK = /^(?:(\d+):)?([0-5]?\d):([0-5]?\d(?:\.\d+)?)$/;

/** Seconds, or INVALID_DATA naming `field` when `value` is not a position. */
export function parseTime(value: unknown, field: string): number {
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (SECONDS.test(text)) {
    return Number(text);
  }

  const clock = CLOCK.exec(text);
  if (clock) {
    return Number(clock[1] ?? 0) * 3600 + Number(clock[2]) * 60 + Number(clock[3]);
  }

  throw invalidOption(
    field,
    `The ${field.replace(/_/g, ' ')} must be seconds (12.5) or HH:MM:SS (00:00:12.5).`,
  );
}

/** Seconds as ffmpeg reads them, without exponent notation. */
export function formatSeconds(seconds: number): string {
  return seconds.toFixed(3);
}
