// The `arguments` of a command: split like a shell would, but nothing a shell would expand or
// interpret is accepted, since no shell ever runs them.
import { parse } from 'shell-quote';

import { AppError } from '@convertd/errors';

/** What the environment callback hands back: marks a `$NAME` or `$(...)` in the string. */
const EXPANSION = { expansion: true } as const;

/** Splits `text` into argv; refuses operators, globs, comments and substitutions. */
export function splitArguments(text: string): string[] {
  // shell-quote keeps backticks as text; a reader would still expect a substitution.
  if (text.includes('`')) {
    throw refused('Command substitution with backticks is not supported.');
  }

  const tokens = parse(text, () => EXPANSION);
  const argv: string[] = [];
  for (const token of tokens) {
    if (typeof token === 'string') {
      argv.push(token);
      continue;
    }
    if ('expansion' in token) {
      throw refused(
        'Variables and command substitutions ($NAME, $(...)) are not supported; quote a ' +
          'literal $ with single quotes.',
      );
    }
    if ('comment' in token) {
      throw refused('A # starts a comment here; quote arguments that contain #.');
    }
    if ('pattern' in token) {
      throw refused(`Wildcards are not expanded (${token.pattern}); quote the argument.`);
    }
    throw refused(`Shell operators such as ${token.op} are not supported: give one command.`);
  }

  return argv;
}

/** INVALID_DATA on the `arguments` field; the message repeats the reason for the task's message. */
export function refused(message: string): AppError {
  return new AppError('INVALID_DATA', {
    message: `Invalid arguments: ${message}`,
    errors: { arguments: [message] },
  });
}
