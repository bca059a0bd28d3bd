import { AppError } from '@convertd/errors';
import { ENGINE_ALIASES, listEngines } from '@convertd/queue';

import type { Deps } from '../deps';

interface Asked {
  /** Where to report a problem: `engine` for a standalone task, `tasks.<name>.engine` in a job. */
  at: string;
  payload: Record<string, unknown>;
}

/**
 * A task that names an `engine` or `engine_version` nobody serves would wait forever: refuse it
 * with a 422 (ARCHITECTURE.md decision 3), reading what live workers advertise.
 */
export async function checkEnginesServed(
  deps: Pick<Deps, 'redis' | 'config'>,
  tasks: Asked[],
): Promise<void> {
  const asking = tasks.filter((t) => isSet(t.payload.engine) || isSet(t.payload.engine_version));
  if (asking.length === 0) {
    return;
  }

  const served = await listEngines(deps.redis, deps.config.queuePrefix);
  const errors: Record<string, string[]> = {};
  for (const { at, payload } of asking) {
    const asked = isSet(payload.engine) ? String(payload.engine) : 'libreoffice';
    const engine = ENGINE_ALIASES[asked] ?? asked;
    const version = isSet(payload.engine_version) ? String(payload.engine_version) : null;
    const ads = served.filter((ad) => ad.engine === engine);
    if (ads.length === 0) {
      errors[`${at}.engine`.replace(/^\./, '')] = [
        `No worker of this deployment serves the engine ${asked}.`,
      ];
    } else if (
      version !== null &&
      !ads.some((ad) => ad.version === version || minorOf(ad.version) === version)
    ) {
      const versions = [...new Set(ads.map((ad) => ad.version))].join(', ');
      errors[`${at}.engine_version`.replace(/^\./, '')] = [
        `The engine ${asked} is not served in version ${version} (served: ${versions}).`,
      ];
    }
  }
  if (Object.keys(errors).length > 0) {
    throw new AppError('INVALID_DATA', { errors });
  }
}

function isSet(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}

/** Workers serve `engine.<name>.<full version>` and `engine.<name>.<major.minor>`: nothing else. */
function minorOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}
