/** Server the tests use: TEST_DATABASE_URL's server, or the local one with trust auth. */
const BASE = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export const TEMPLATE_DB = 'convertd_test_template';

export function databaseUrl(name: string): string {
  const url = new URL(BASE);
  url.pathname = `/${name}`;
  return url.toString();
}

export function adminUrl(): string {
  return databaseUrl('postgres');
}
