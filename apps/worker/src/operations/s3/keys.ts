// Object keys of an export: `key` (printf placeholders when several files go up), or
// `key_prefix` followed by each file's name. No two files of a task get the same key.
import { splitExtension } from '@convertd/api';

import { printf } from '../naming';

const NUMBER = /%0?\d*d/;

export function objectKeys(
  asked: { key: unknown; keyPrefix: unknown },
  filenames: readonly string[],
): string[] {
  const used = new Set<string>();
  return filenames.map((filename, i) => {
    let key = keyOf(asked, filename, i + 1, filenames.length);
    for (let n = 2; used.has(key); n += 1) {
      key = numbered(key, n);
    }
    used.add(key);
    return key;
  });
}

function keyOf(
  asked: { key: unknown; keyPrefix: unknown },
  filename: string,
  n: number,
  count: number,
): string {
  if (typeof asked.key === 'string' && asked.key !== '') {
    // `%s` is the file's name; `%d`, `%3d`, `%03d` its number among the task's files.
    const named = asked.key.replace(/%s/g, filename);
    if (NUMBER.test(named)) {
      return printf(named, n);
    }
    return count === 1 || named !== asked.key ? named : numbered(named, n);
  }
  const prefix = typeof asked.keyPrefix === 'string' ? asked.keyPrefix : '';
  return `${prefix}${filename}`;
}

/** `out/report.pdf`, 2 -> `out/report-2.pdf`. */
function numbered(key: string, n: number): string {
  const slash = key.lastIndexOf('/') + 1;
  const [stem, ext] = splitExtension(key.slice(slash));
  return `${key.slice(0, slash)}${stem}-${n}${ext}`;
}
