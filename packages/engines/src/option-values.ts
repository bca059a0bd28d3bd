// Options as engines read them, and the INVALID_DATA that names one.
import { AppError } from '@convertd/errors';

/**
 * INVALID_DATA naming `field`. The message repeats the reason: a task that fails in the worker
 * keeps only its message.
 */
export function invalidOption(field: string, ...messages: string[]): AppError {
  return new AppError('INVALID_DATA', {
    message: `Invalid ${field.replace(/_/g, ' ')}: ${messages.join(' ')}`,
    errors: { [field]: messages },
  });
}

/** A string or number option as text; anything else as ''. */
export function asText(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}
