// `GET /v2/operations` and `GET /v2/convert/formats`: the catalogue rows of the engines that live
// workers advertise, in the shape the Java SDK's OperationResponse reads (API.md §2.6).
import { canonicalEngine, catalogueRows, chooseRow } from './index';
import type { CatalogueRow, OptionSpec } from './types';

export interface ServedVersions {
  /** Engine → versions advertised by live workers. */
  versions: ReadonlyMap<string, readonly string[]>;
  /** Operator's default version per engine (a full version or a prefix such as `7.4`). */
  defaults: Readonly<Record<string, string>>;
  deprecated: Readonly<Record<string, readonly string[]>>;
}

export interface ListingQuery {
  operation?: string;
  inputFormat?: string;
  outputFormat?: string;
  engine?: string;
  engineVersion?: string;
  include: ReadonlySet<string>;
  /** Also list engines that are not the default for their pair. */
  alternatives: boolean;
}

export interface EngineVersionView {
  version: string;
  default: boolean;
  latest: boolean;
  deprecated: boolean;
  experimental: boolean;
}

/** True when `version` is `wanted` or starts with it at a dot (`7.4` matches `7.4.7.2`). */
export function versionMatches(version: string, wanted: string): boolean {
  return version === wanted || version.startsWith(`${wanted}.`);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+~-]/).map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(/[.+~-]/).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) {
      return d;
    }
  }
  return 0;
}

/** The versions of an engine as the catalogue shows them, newest first. */
export function engineVersions(engine: string, served: ServedVersions): EngineVersionView[] {
  const versions = [...new Set(served.versions.get(engine) ?? [])].sort((a, b) =>
    compareVersions(b, a),
  );
  const latest = versions[0];
  const wantedDefault = served.defaults[engine];
  const deprecated = served.deprecated[engine] ?? [];
  const isDeprecated = (v: string) => deprecated.some((d) => versionMatches(v, d));
  const chosen =
    (wantedDefault && versions.find((v) => versionMatches(v, wantedDefault))) ||
    versions.find((v) => !isDeprecated(v)) ||
    latest;

  return versions.map((version) => ({
    version,
    default: version === chosen,
    latest: version === latest,
    deprecated: isDeprecated(version),
    experimental: false,
  }));
}

export function isDeprecatedVersion(
  engine: string,
  version: string,
  deprecated: Readonly<Record<string, readonly string[]>>,
): boolean {
  return (deprecated[canonicalEngine(engine)] ?? []).some((d) => versionMatches(version, d));
}

interface OptionView {
  name: string;
  type: string;
  default: unknown;
  possible_values: readonly (string | number)[] | null;
}

function optionView(o: OptionSpec): OptionView {
  return {
    name: o.name,
    type: o.type,
    default: o.default ?? null,
    possible_values: o.possible_values ?? null,
  };
}

export function listOperations(
  query: ListingQuery,
  served: ServedVersions,
  rows: readonly CatalogueRow[] = catalogueRows(),
): Record<string, unknown>[] {
  const engine = query.engine ? canonicalEngine(query.engine) : undefined;
  const live = rows.filter((r) => (served.versions.get(r.engine)?.length ?? 0) > 0);
  const servedNames = new Set(live.map((r) => r.engine));
  const out: Record<string, unknown>[] = [];
  for (const row of live) {
    // The default is what the router would pick for this pair, wildcard rows (any input)
    // included: exiftool's metadata of any file beats poppler's of PDFs, say.
    const chosen = chooseRow(
      {
        operation: row.operation,
        inputFormat: row.input_format ?? query.inputFormat ?? null,
        outputFormat: row.output_format,
      },
      servedNames,
      live,
    );
    const isDefault = chosen?.engine === row.engine;
    if (!isDefault && !query.alternatives && engine === undefined) {
      continue;
    }
    if (query.operation && row.operation !== query.operation) {
      continue;
    }
    if (query.inputFormat && row.input_format !== null && row.input_format !== query.inputFormat) {
      continue;
    }
    // A row with no output (metadata, command) produces no file of any format: it never
    // matches an output filter. A row of any input (metadata, archive, merge, command) does
    // take the file asked for, and is listed with that format.
    if (query.outputFormat && row.output_format !== query.outputFormat) {
      continue;
    }
    if (engine && row.engine !== engine) {
      continue;
    }
    const versions = engineVersions(row.engine, served);
    if (
      query.engineVersion &&
      !versions.some((v) => versionMatches(v.version, query.engineVersion!))
    ) {
      continue;
    }

    const item: Record<string, unknown> = {
      operation: row.operation,
      input_format: row.input_format ?? query.inputFormat ?? null,
      output_format: row.output_format,
      engine: row.engine,
      credits: row.credits,
      deprecated: versions.length > 0 && versions.every((v) => v.deprecated),
      experimental: false,
      meta: { group: row.group, default: isDefault },
    };
    if (query.include.has('options')) {
      item.options = row.options.map(optionView);
    }
    if (query.include.has('engine_versions')) {
      item.engine_versions = versions;
    }
    out.push(item);
  }

  return out;
}
