// Checks and coerces engine options against their specs. Loosely typed clients (the CLI's
// `-p.key=value`, Java's string ports) send numbers and booleans as strings: both are accepted.
import type { OptionSpec } from './types';

type Json = Record<string, unknown>;

export interface CheckedOptions {
  /** Field → messages, Laravel style; empty when the options are valid. */
  errors: Record<string, string[]>;
  /** The options coerced to their types, with defaults filled in. */
  values: Json;
}

/**
 * `payload` keys that are neither in `specs` nor in `common` are unknown options. `at` prefixes
 * error keys (`tasks.convert-it.` inside a job).
 */
export function checkOptions(
  specs: ReadonlyMap<string, OptionSpec>,
  payload: Json,
  common: ReadonlySet<string>,
  at = '',
): CheckedOptions {
  const errors: Record<string, string[]> = {};
  const values: Json = {};
  const add = (field: string, message: string) => (errors[`${at}${field}`] ??= []).push(message);

  for (const [name, raw] of Object.entries(payload)) {
    if (common.has(name)) {
      continue;
    }
    const spec = specs.get(name);
    if (!spec) {
      add(name, `The option ${name} is not supported here.`);
      continue;
    }
    if (raw === null || raw === undefined || raw === '') {
      continue;
    }
    const value = spec.unchecked ? raw : coerce(spec, raw);
    if (value === INVALID) {
      add(name, describe(spec));
      continue;
    }
    const problems = spec.unchecked ? null : (spec.check?.(value, name) ?? null);
    if (problems) {
      problems.forEach((message) => add(name, message));
      continue;
    }
    values[name] = value;
  }
  for (const spec of specs.values()) {
    if (values[spec.name] !== undefined) {
      continue;
    }
    if (spec.required && !errors[`${at}${spec.name}`]) {
      add(spec.name, `The ${spec.name.replace(/_/g, ' ')} field is required.`);
    } else if (spec.default !== undefined && spec.default !== null) {
      values[spec.name] = spec.default;
    }
  }

  return { errors, values };
}

const INVALID = Symbol('invalid');

function coerce(spec: OptionSpec, raw: unknown): unknown {
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') {
        return raw;
      }
      if (raw === 'true' || raw === '1' || raw === 1) {
        return true;
      }
      if (raw === 'false' || raw === '0' || raw === 0) {
        return false;
      }
      return INVALID;
    case 'integer':
    case 'float': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
      if (!Number.isFinite(n) || (spec.type === 'integer' && !Number.isInteger(n))) {
        return INVALID;
      }
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        return INVALID;
      }
      return n;
    }
    case 'enum': {
      const values = spec.possible_values ?? [];
      const hit = values.find((v) => String(v).toLowerCase() === String(raw).toLowerCase());
      return hit === undefined || (typeof raw !== 'string' && typeof raw !== 'number')
        ? INVALID
        : hit;
    }
    case 'string':
      if (typeof raw === 'number') {
        return String(raw);
      }
      if (typeof raw !== 'string') {
        return INVALID;
      }
      return spec.max !== undefined && raw.length > spec.max ? INVALID : raw;
    case 'array': {
      const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw;
      if (
        !Array.isArray(list) ||
        list.some((v) => typeof v !== 'string' && typeof v !== 'number')
      ) {
        return INVALID;
      }
      if (spec.possible_values) {
        const allowed = new Set(spec.possible_values.map(String));
        if (list.some((v) => !allowed.has(String(v)))) {
          return INVALID;
        }
      }
      return list.map(String);
    }
    case 'dictionary':
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        return INVALID;
      }
      if (Object.values(raw).some((v) => typeof v === 'object' && v !== null)) {
        return INVALID;
      }
      return raw;
  }
}

function describe(spec: OptionSpec): string {
  const name = spec.name.replace(/_/g, ' ');
  switch (spec.type) {
    case 'boolean':
      return `The ${name} field must be true or false.`;
    case 'integer':
    case 'float': {
      const kind = spec.type === 'integer' ? 'an integer' : 'a number';
      const range =
        spec.min !== undefined && spec.max !== undefined
          ? ` between ${spec.min} and ${spec.max}`
          : spec.min !== undefined
            ? ` of at least ${spec.min}`
            : spec.max !== undefined
              ? ` of at most ${spec.max}`
              : '';
      return `The ${name} must be ${kind}${range}.`;
    }
    case 'enum':
      return `The selected ${name} is invalid. Possible values: ${(spec.possible_values ?? []).join(', ')}.`;
    case 'array':
      return spec.possible_values
        ? `The ${name} must be a list of: ${spec.possible_values.join(', ')}.`
        : `The ${name} must be a list of strings.`;
    case 'dictionary':
      return `The ${name} must be an object of strings and numbers.`;
    case 'string':
      return spec.max !== undefined
        ? `The ${name} must be a string of at most ${spec.max} characters.`
        : `The ${name} must be a string.`;
  }
}
