/** Server the tests use: TEST_DATABASE_URL's server, or the local one with trust auth. */
const BASE = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** The run's migrated template (named by the global setup, inherited by the test workers). */
export function templateDb(): string {
  const name = process.env.CONVERTD_TEST_TEMPLATE;
  if (!name) {
    throw new Error(
      'CONVERTD_TEST_TEMPLATE is unset: run the tests through vitest (test/global-setup.ts)',
    );
  }

  return name;
}

export function databaseUrl(name: string): string {
  const url = new URL(BASE);
  url.pathname = `/${name}`;
  return url.toString();
}

export function adminUrl(): string {
  return databaseUrl('postgres');
}
