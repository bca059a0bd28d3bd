// The catalogue of this deployment: what live workers can do right now (API.md §2.6). Public,
// like CloudConvert's: it says nothing about any user.
import { listOperations, type ListingQuery, type ServedVersions } from '@convertd/api';
import { listEngines } from '@convertd/queue';
import type { FastifyInstance, FastifyRequest } from 'fastify';

import type { Deps } from '../deps';
import { filterOf, includesOf, queryOf, sendData } from './common';

export function registerOperationRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/v2/operations', async (request, reply) => {
    const data = listOperations(listingQuery(request), await servedVersions(deps));
    return sendData(reply, 200, data);
  });

  app.get('/v2/convert/formats', async (request, reply) => {
    const data = listOperations(
      { ...listingQuery(request), operation: 'convert' },
      await servedVersions(deps),
    );
    return sendData(reply, 200, data);
  });
}

function listingQuery(request: FastifyRequest): ListingQuery {
  const query = queryOf(request);
  const lower = (v: string | undefined) => v?.toLowerCase();
  return {
    operation: filterOf(query, 'operation'),
    inputFormat: lower(filterOf(query, 'input_format')),
    outputFormat: lower(filterOf(query, 'output_format')),
    engine: lower(filterOf(query, 'engine')),
    engineVersion: filterOf(query, 'engine_version'),
    include: includesOf(query),
    alternatives: ['true', '1'].includes(query.alternatives?.toLowerCase() ?? ''),
  };
}

/** Versions advertised by live workers, with the operator's marks. */
export async function servedVersions(
  deps: Pick<Deps, 'redis' | 'config'>,
): Promise<ServedVersions> {
  const versions = new Map<string, string[]>();
  for (const ad of await listEngines(deps.redis, deps.config.queuePrefix)) {
    versions.set(ad.engine, [...(versions.get(ad.engine) ?? []), ad.version]);
  }

  return {
    versions,
    defaults: deps.config.engineDefaultVersions,
    deprecated: deps.config.engineDeprecatedVersions,
  };
}
