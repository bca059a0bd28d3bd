// pdf/encrypt options as a qpdf job: AES-256 with the permissions CloudConvert's API names.
import { randomBytes } from 'node:crypto';

import { PDF_MODIFY_LEVELS, PDF_PRINT_LEVELS } from '@convertd/api';
import { AppError } from '@convertd/errors';

type Options = Record<string, unknown>;

/** The `encrypt` member of a qpdf job JSON for these task options. */
export function encryptionJob(options: Options): Record<string, unknown> {
  const user = text(options['set_password']);
  const owner = text(options['set_owner_password']);
  if (user === '' && owner === '') {
    throw new AppError('INVALID_DATA', {
      errors: {
        set_password: ['Set a password to open the PDF, an owner password, or both.'],
      },
    });
  }

  // PDF 2.0 readers must ignore this restriction, and qpdf cannot set it with AES-256.
  if (options['allow_accessibility'] === false) {
    throw new AppError('INVALID_DATA', {
      errors: {
        allow_accessibility: [
          'AES-256 encryption always allows accessibility; leave this option true or unset.',
        ],
      },
    });
  }

  return {
    userPassword: user,
    // Without an owner password anyone who opens the file could lift the restrictions; a random
    // one keeps them for everyone.
    ownerPassword: owner === '' ? randomBytes(24).toString('base64url') : owner,
    '256bit': {
      extract: options['allow_extract'] === false ? 'n' : 'y',
      modify: level(options['allow_modify'], PDF_MODIFY_LEVELS, 'all'),
      print: level(options['allow_print'], PDF_PRINT_LEVELS, 'full'),
    },
  };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function level(value: unknown, allowed: readonly string[], fallback: string): string {
  return typeof value === 'string' && allowed.includes(value) ? value : fallback;
}
