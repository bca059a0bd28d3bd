// Our documented extensions for a user's own account: the sandbox whitelist and usage per day.
import { timestamp } from '@convertd/api';
import {
  allowSandboxFile,
  isMd5,
  listSandboxFiles,
  removeSandboxFile,
  usageOf,
  type SandboxFileRow,
} from '@convertd/db';
import { AppError } from '@convertd/errors';
import type { FastifyInstance } from 'fastify';

import type { Deps } from '../deps';
import { principal, requireScope } from '../plugins/auth';
import { filterOf, queryOf, sendData, sendJson } from './common';

/** Days a usage query covers when it names no `filter[from]`, and the most it may ask for. */
const DEFAULT_DAYS = 30;
const MAX_DAYS = 366;

export function registerAccountRoutes(app: FastifyInstance, deps: Deps): void {
  const read = { preHandler: requireScope(deps, 'user.read') };
  const write = { preHandler: requireScope(deps, 'user.write') };

  app.get('/v2/users/me/sandbox/files', read, async (request, reply) => {
    const rows = await listSandboxFiles(deps.db, principal(request).userId);
    return sendJson(reply, 200, JSON.stringify({ data: rows.map(sandboxFile) }));
  });

  app.post('/v2/users/me/sandbox/files', write, async (request, reply) => {
    const body = (request.body ?? {}) as { md5?: unknown; filename?: unknown };
    if (!isMd5(body.md5)) {
      throw new AppError('INVALID_DATA', {
        errors: { md5: ['The md5 must be the 32 hexadecimal digits of an MD5 hash.'] },
      });
    }
    if (
      body.filename !== undefined &&
      body.filename !== null &&
      (typeof body.filename !== 'string' || body.filename.includes('\u0000'))
    ) {
      throw new AppError('INVALID_DATA', {
        errors: { filename: ['The filename must be a string without NUL characters.'] },
      });
    }

    const row = await allowSandboxFile(
      deps.db,
      principal(request).userId,
      body.md5,
      typeof body.filename === 'string' ? body.filename.slice(0, 255) : null,
    );
    return sendData(reply, 201, sandboxFile(row));
  });

  app.delete<{ Params: { md5: string } }>(
    '/v2/users/me/sandbox/files/:md5',
    write,
    async (request, reply) => {
      const { md5 } = request.params;
      if (!isMd5(md5) || !(await removeSandboxFile(deps.db, principal(request).userId, md5))) {
        throw new AppError('NOT_FOUND');
      }
      return reply.code(204).send();
    },
  );

  app.get('/v2/users/me/usage', read, async (request, reply) => {
    const query = queryOf(request);
    const to = dateFilter(query, 'to') ?? today();
    const from = dateFilter(query, 'from') ?? addDays(to, 1 - DEFAULT_DAYS);
    // Counted in days, not compared as text: a range ending in 9999 moves past year 9999.
    const days = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
    if (days < 1 || days > MAX_DAYS) {
      throw new AppError('INVALID_DATA', {
        errors: { 'filter[from]': [`The range must cover 1 to ${MAX_DAYS} days.`] },
      });
    }
    const sandbox = filterOf(query, 'sandbox');
    if (sandbox !== undefined && sandbox !== 'true' && sandbox !== 'false') {
      throw new AppError('INVALID_DATA', {
        errors: { 'filter[sandbox]': ['The filter[sandbox] must be true or false.'] },
      });
    }

    const rows = await usageOf(deps.db, {
      userId: principal(request).userId,
      from,
      to,
      sandbox: sandbox === 'true',
    });
    const data = rows.map((r) => ({
      date: r.date,
      operation: r.operation,
      tasks: r.tasks,
      credits: r.credits,
      engine_seconds: r.engineSeconds,
    }));
    return sendJson(reply, 200, JSON.stringify({ data, meta: { from, to } }));
  });
}

function sandboxFile(row: SandboxFileRow): Record<string, unknown> {
  return { md5: row.md5, filename: row.filename, created_at: timestamp(row.createdAt) };
}

/** `filter[from]` / `filter[to]`: a UTC day, `YYYY-MM-DD`. */
function dateFilter(query: Record<string, string>, name: 'from' | 'to'): string | undefined {
  const value = filterOf(query, name);
  if (value === undefined) {
    return undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || addDays(value, 0) !== value) {
    throw new AppError('INVALID_DATA', {
      errors: { [`filter[${name}]`]: ['The date must look like 2026-12-31.'] },
    });
  }

  return value;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** A `YYYY-MM-DD` day moved by `days` (an invalid date comes back different, or throws). */
function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) {
    return '';
  }
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}
