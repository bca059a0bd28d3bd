// archivetool (CloudConvert's name for it): every input file of a task into one archive.
import type { EngineSpec } from './types';

/**
 * The archive formats written. `tgz` is the short name of `tar.gz`. RAR is left out: only the
 * proprietary `rar` program writes it. 7z needs 7-Zip on the worker.
 */
export const ARCHIVE_FORMATS = ['zip', 'tar', 'tar.gz', 'tgz', 'tar.bz2', '7z'] as const;

export const ARCHIVETOOL: EngineSpec = {
  name: 'archivetool',
  entries: [
    {
      operation: 'archive',
      inputs: ['*'],
      outputs: ARCHIVE_FORMATS,
      // CloudConvert's archive takes no options beyond output_format and filename.
      options: [],
      group: 'archive',
    },
  ],
};
