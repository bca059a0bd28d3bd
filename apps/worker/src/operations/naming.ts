// Names of output files: the user's `filename` (with printf placeholders for several outputs),
// else the input's name with the output's extension.
import path from 'node:path';

import {
  cleanFilename,
  PROCESSING_OPERATIONS,
  replaceExtension,
  splitExtension,
} from '@convertd/api';
import type { EngineInput } from '@convertd/engines';

const PLACEHOLDER = /%(0?)(\d*)d/g;

export interface NamingContext {
  asked: unknown;
  operation: string;
  /** The input the output came from (the first one for merge, archive and command). */
  input: EngineInput | undefined;
  outputPath: string;
  outputFormat: string;
  /** 1-based number of this output among all outputs of the task. */
  numberInTask: number;
  /** 1-based number among the outputs of the same input, and how many there are. */
  numberInInput: number;
  outputsOfInput: number;
  /** The task makes exactly one file. */
  singleOutput: boolean;
}

export function outputName(o: NamingContext): string {
  if (typeof o.asked === 'string' && o.asked.trim() !== '') {
    if (PLACEHOLDER.test(o.asked)) {
      return cleanFilename(printf(o.asked, o.singleOutput ? 1 : o.numberInTask));
    }
    if (o.singleOutput) {
      return cleanFilename(o.asked);
    }
    return cleanFilename(numbered(o.asked, o.numberInTask));
  }

  const mode = PROCESSING_OPERATIONS[o.operation];
  if (mode !== 'each' || !o.input) {
    return cleanFilename(path.basename(o.outputPath));
  }
  const base = replaceExtension(o.input.filename, o.outputFormat);

  return cleanFilename(o.outputsOfInput > 1 ? numbered(base, o.numberInInput) : base);
}

/** `%d`, `%3d` and `%03d` replaced by `n`, as printf would. */
export function printf(template: string, n: number): string {
  return template.replace(PLACEHOLDER, (_m, zero: string, width: string) => {
    const digits = String(n);
    const w = Number(width || 0);
    return digits.length >= w ? digits : (zero ? '0' : ' ').repeat(w - digits.length) + digits;
  });
}

/** `page.png`, 3 -> `page-3.png`; `logs.tar.gz`, 2 -> `logs-2.tar.gz`. */
function numbered(filename: string, n: number): string {
  const [stem, ext] = splitExtension(filename);
  return `${stem}-${n}${ext}`;
}
