import { envelope } from '@convertd/api';
import { AppError } from '@convertd/errors';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Query values as strings; empty ones count as absent (.NET sends `per_page=&include=`). */
export function queryOf(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
    const v = Array.isArray(value) ? value[value.length - 1] : value;
    if (typeof v === 'string' && v !== '') {
      if (v.includes('\u0000') || key.includes('\u0000')) {
        throw new AppError('INVALID_DATA', {
          errors: {
            [key.replaceAll('\u0000', '')]: ['The value must not contain NUL characters.'],
          },
        });
      }
      out[key] = v;
    }
  }

  return out;
}

/** `filter[x]` however it was encoded (`filter%5Bx%5D` decodes to the same key). */
export function filterOf(query: Record<string, string>, name: string): string | undefined {
  return query[`filter[${name}]`];
}

export function includesOf(query: Record<string, string>): Set<string> {
  return new Set(
    (query.include ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

export function pageOf(query: Record<string, string>): { page: number; perPage: number } {
  const page = positive(query.page, 1, 'page');
  const perPage = positive(query.per_page, 100, 'per_page');
  if (perPage > 1000) {
    throw new AppError('INVALID_DATA', {
      errors: { per_page: ['The per page may not be greater than 1000.'] },
    });
  }

  return { page, perPage };
}

function positive(raw: string | undefined, fallback: number, field: string): number {
  if (raw === undefined) {
    return fallback;
  }

  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_PAGE) {
    throw new AppError('INVALID_DATA', {
      errors: { [field]: [`The ${field.replace('_', ' ')} must be a positive integer.`] },
    });
  }

  return value;
}

/** Query parameters that page links carry forward. */
export function linkQuery(query: Record<string, string>): Record<string, string> {
  const { page: _p, per_page: _pp, ...rest } = query;
  return rest;
}

export function sendData(reply: FastifyReply, status: number, data: unknown): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .header('cache-control', 'no-cache, private')
    .send(envelope(data));
}

export function sendJson(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .header('cache-control', 'no-cache, private')
    .send(body);
}

/** Deeper pages than this are refused rather than handed to the database as huge offsets. */
const MAX_PAGE = 1_000_000;

const STATUSES = new Set(['waiting', 'processing', 'finished', 'error']);

/** `filter[status]`, checked against the four statuses. */
export function statusFilter(
  query: Record<string, string>,
): 'waiting' | 'processing' | 'finished' | 'error' | undefined {
  const status = filterOf(query, 'status');
  if (status !== undefined && !STATUSES.has(status)) {
    throw new AppError('INVALID_DATA', {
      errors: { 'filter.status': ['The selected filter.status is invalid.'] },
    });
  }

  return status as 'waiting' | 'processing' | 'finished' | 'error' | undefined;
}
