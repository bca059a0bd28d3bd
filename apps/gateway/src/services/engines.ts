import {
  canonicalEngine,
  chooseRow,
  engineVersions,
  isDeprecatedVersion,
  matchingRows,
  versionMatches,
} from '@convertd/api';
import { AppError } from '@convertd/errors';
import { listEngines, pinnedVersionProblem, servedVersions } from '@convertd/queue';

import type { Deps } from '../deps';

interface Asked {
  operation: string;
  /** Where to report a problem: `engine` for a standalone task, `tasks.<name>.engine` in a job. */
  at: string;
  payload: Record<string, unknown>;
  /** Known at creation when the input is an import that names its file. */
  inputFormat?: string | null;
}

export interface EngineCheck {
  /** Some task will run on an engine version the operator deprecated. */
  deprecated: boolean;
}

/**
 * A task whose engine or engine version nobody serves would wait forever: refuse it with a 422
 * (ARCHITECTURE.md decision 3), reading what live workers advertise. With no worker alive at all
 * tasks are accepted and wait (the deployment is starting or scaling up).
 */
export async function checkEnginesServed(
  deps: Pick<Deps, 'redis' | 'config'>,
  tasks: Asked[],
): Promise<EngineCheck> {
  if (tasks.length === 0) {
    return { deprecated: false };
  }
  const ads = await listEngines(deps.redis, deps.config.queuePrefix);
  if (ads.length === 0) {
    return { deprecated: false };
  }

  const versions = servedVersions(ads);
  const served = new Set(versions.keys());
  const errors: Record<string, string[]> = {};
  const field = (at: string, name: string) => `${at}.${name}`.replace(/^\./, '');
  let deprecated = false;
  for (const { at, payload, operation, inputFormat } of tasks) {
    const named = isSet(payload.engine) ? String(payload.engine) : null;
    const query = {
      operation,
      inputFormat: isSet(payload.input_format)
        ? String(payload.input_format).toLowerCase()
        : (inputFormat ?? null),
      outputFormat: isSet(payload.output_format)
        ? String(payload.output_format).toLowerCase()
        : null,
    };
    const pinned = isSet(payload.engine_version) ? String(payload.engine_version) : null;
    // Format unknown yet (an upload): a version pinned without an engine must fit one of the
    // engines that could serve the task. Which one runs is known once the file is there; the
    // router fails the task then if that engine does not run the version.
    const candidates =
      named || query.inputFormat !== null || pinned === null
        ? null
        : matchingRows(query).filter((r) =>
            (versions.get(r.engine) ?? []).some((v) => versionMatches(v, pinned)),
          );
    const engine = named
      ? canonicalEngine(named)
      : (candidates?.[0]?.engine ?? chooseRow(query, served)?.engine ?? null);
    if (candidates?.length === 0) {
      errors[field(at, 'engine_version')] = [
        `No engine that serves this task runs in version ${pinned}; name the engine as well.`,
      ];
      continue;
    }
    if (engine === null) {
      continue;
    }
    const available = versions.get(engine) ?? [];
    if (available.length === 0) {
      errors[field(at, 'engine')] = [
        named
          ? `No worker of this deployment serves the engine ${named}.`
          : `No worker of this deployment serves ${operation} with ${engine}.`,
      ];
      continue;
    }

    const problem = pinned ? pinnedVersionProblem(query, engine, pinned, named, versions) : null;
    if (problem) {
      errors[field(at, 'engine_version')] = [problem];
      continue;
    }
    const runs = pinned
      ? available.find((v) => versionMatches(v, pinned))
      : engineVersions(engine, {
          versions,
          defaults: deps.config.engineDefaultVersions,
          deprecated: deps.config.engineDeprecatedVersions,
        }).find((v) => v.default)?.version;
    if (runs && isDeprecatedVersion(engine, runs, deps.config.engineDeprecatedVersions)) {
      deprecated = true;
    }
  }
  if (Object.keys(errors).length > 0) {
    throw new AppError('INVALID_DATA', { errors });
  }

  return { deprecated };
}

function isSet(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}
