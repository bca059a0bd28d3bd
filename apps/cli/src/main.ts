// Admin commands: `pnpm cli <group> <command> [options]`. Run with no arguments for help.
import { parseArgs } from 'node:util';

import { randomBytes, randomUUID } from 'node:crypto';

import { PayloadCipher } from '@convertd/api';
import { ConfigError, loadConfig, type Config } from '@convertd/config';
import {
  createApiKey,
  createDb,
  createSigningKey,
  DatabaseUnreachableError,
  ensureDatabase,
  migrate,
  payloadKeys,
  revokeSigningKey,
  SCOPES,
  signingKeyAad,
  type Db,
} from '@convertd/db';

import { sandboxCommand, usageCommand, UsageError, type AccountOptions } from './account';
import { listDeliveries, printDefaultSecret, resendDelivery } from './webhooks';

const HELP = `usage: pnpm cli <command>

  db migrate                                  create the database if missing, apply migrations
  users create --email E [--username U] [--credits N]
  users list
  keys create --email E --scopes a,b,c [--sandbox] [--name N]
                                              prints the new key alone on the last line
  keys list [--email E]
  keys revoke ID
  sandbox allow --email E --md5 HEX [--name FILENAME]
                                              lets E's sandbox keys import files with that MD5
  sandbox list [--email E]
  sandbox remove --email E --md5 HEX
  usage [--email E] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--sandbox]
                                              tasks, credits and engine seconds per day and
                                              operation (UTC days, the last 30 by default)
  webhooks deliveries [--email E] [--job ID] [--status pending|delivered|failed]
                                              the newest 100 deliveries and their last attempt
  webhooks resend DELIVERY_ID                 sends a delivery again (as a new delivery)
  webhooks secret --email E                   the secret of job webhook_url deliveries of a
                                              user without webhooks
  signing-keys create --email E               a key for signed URLs: prints its id, secret and
                                              base URL (<PUBLIC_URL>/s/<id>)
  signing-keys list [--email E]
  signing-keys revoke ID

scopes: ${SCOPES.join(', ')} (or "all")`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      username: { type: 'string' },
      credits: { type: 'string' },
      scopes: { type: 'string' },
      sandbox: { type: 'boolean', default: false },
      name: { type: 'string' },
      md5: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      job: { type: 'string' },
      status: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [group, command, arg] = positionals;
  if (values.help || !group) {
    console.log(HELP);
    return;
  }

  const config = loadConfig();
  if (group === 'db' && command === 'migrate') {
    const created = await ensureDatabase(config.databaseUrl);
    const { applied } = await migrate(config.databaseUrl);
    console.log(
      `${created ? 'database created; ' : ''}migrations applied: ${applied.length ? applied.join(', ') : 'none pending'}`,
    );
    return;
  }

  await ensureDatabase(config.databaseUrl);
  await migrate(config.databaseUrl);
  const db = createDb(config.databaseUrl, { max: 2 });
  try {
    await run(db, config, group, command, arg, values);
  } finally {
    await db.$disconnect();
  }
}

async function run(
  db: Db,
  config: Config,
  group: string,
  command: string | undefined,
  arg: string | undefined,
  values: AccountOptions & {
    username?: string;
    credits?: string;
    scopes?: string;
    sandbox?: boolean;
    name?: string;
    job?: string;
    status?: string;
  },
): Promise<void> {
  if (group === 'sandbox') {
    return sandboxCommand(db, command, values);
  }
  if (group === 'usage') {
    return usageCommand(db, values);
  }

  switch (`${group} ${command ?? ''}`) {
    case 'users create': {
      const email = required(values.email, '--email');
      if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
        throw new UsageError(`--email must be an email address, got "${email}"`);
      }
      const credits = values.credits === undefined ? config.defaultCredits : Number(values.credits);
      if (!Number.isInteger(credits) || credits < 0 || credits > 2_147_483_647) {
        throw new UsageError('--credits must be an integer from 0 to 2147483647');
      }
      const user = await db.user.create({
        data: { email, username: values.username ?? email.split('@')[0] ?? email, credits },
      });
      console.log(
        `user ${user.id} created: ${user.username} <${user.email}>, ${user.credits} credits`,
      );
      return;
    }
    case 'users list': {
      for (const u of await db.user.findMany({ orderBy: { id: 'asc' } })) {
        console.log(`${u.id}\t${u.username}\t${u.email}\t${u.credits}`);
      }
      return;
    }
    case 'keys create': {
      const email = required(values.email, '--email');
      const user = await db.user.findUnique({ where: { email } });
      if (!user) {
        throw new UsageError(
          `no user with email ${email}; create one with: pnpm cli users create --email ${email}`,
        );
      }
      const created = await createApiKey(db, {
        userId: user.id,
        scopes: parseScopes(required(values.scopes, '--scopes')),
        sandbox: values.sandbox ?? false,
        ...(values.name ? { name: values.name } : {}),
      });
      console.log(`key ${created.id} created for ${user.email}; it is shown only once:`);
      console.log(created.key);
      return;
    }
    case 'keys list': {
      const keys = await db.apiKey.findMany({
        where: values.email ? { user: { email: values.email } } : {},
        include: { user: true },
        orderBy: { id: 'asc' },
      });
      for (const k of keys) {
        const state = k.revokedAt ? 'revoked' : 'active';
        console.log(
          `${k.id}\t${k.prefix}…\t${k.user.email}\t${k.scopes.join(',')}\t${k.sandbox ? 'sandbox' : 'live'}\t${state}`,
        );
      }
      return;
    }
    case 'keys revoke': {
      const id = Number(required(arg, 'ID'));
      if (!/^\d+$/.test(arg!) || id > 2_147_483_647) {
        throw new UsageError(`ID must be a key id (a number, as keys list shows it), got "${arg}"`);
      }
      const result = await db.apiKey.updateMany({
        where: { id, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      if (result.count === 0) {
        throw new UsageError(`no active key with id ${arg}`);
      }
      console.log(`key ${id} revoked`);
      return;
    }
    case 'webhooks deliveries': {
      await listDeliveries(db, {
        ...(values.email ? { email: values.email } : {}),
        ...(values.job ? { job: values.job } : {}),
        ...(values.status ? { status: values.status } : {}),
      });
      return;
    }
    case 'webhooks resend': {
      await resendDelivery(db, config, required(arg, 'DELIVERY_ID'));
      return;
    }
    case 'webhooks secret': {
      await printDefaultSecret(db, required(values.email, '--email'));
      return;
    }
    case 'signing-keys create': {
      const email = required(values.email, '--email');
      const user = await db.user.findUnique({ where: { email } });
      if (!user) {
        throw new UsageError(`no user with email ${email}`);
      }
      const { keys } = await payloadKeys(db, config.encryptionKey, config.previousEncryptionKeys);
      const id = randomUUID();
      const secret = randomBytes(24).toString('base64url');
      const sealedSecret = new PayloadCipher(keys).sealText(secret, signingKeyAad(id));
      await createSigningKey(db, { id, userId: user.id, sealedSecret });
      const origin = config.publicUrl ?? `http://localhost:${config.port}`;
      console.log(`signing key for ${user.email}; the secret is shown only once`);
      console.log(`id:     ${id}`);
      console.log(`secret: ${secret}`);
      console.log(`base:   ${origin}/s/${id}`);
      return;
    }
    case 'signing-keys list': {
      const keys = await db.signingKey.findMany({
        where: values.email ? { user: { email: values.email } } : {},
        include: { user: true },
        orderBy: { createdAt: 'asc' },
      });
      for (const k of keys) {
        console.log(
          `${k.id}\t${k.user.email}\t${k.createdAt.toISOString()}\t${k.revokedAt ? 'revoked' : 'active'}`,
        );
      }
      return;
    }
    case 'signing-keys revoke': {
      const id = required(arg, 'ID');
      if (!/^[0-9a-f-]{36}$/i.test(id) || !(await revokeSigningKey(db, id))) {
        throw new UsageError(`no active signing key with id ${id}`);
      }
      console.log(`signing key ${id} revoked`);
      return;
    }
    default:
      throw new UsageError(`unknown command: ${group} ${command ?? ''}\n\n${HELP}`);
  }
}

function parseScopes(raw: string): string[] {
  if (raw.trim() === 'all') {
    return [...SCOPES];
  }

  const scopes = raw.split(/[,\s]+/).filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0 || scopes.length === 0) {
    throw new UsageError(
      `unknown scope ${unknown.join(', ') || '(none)'}; known: ${SCOPES.join(', ')}`,
    );
  }

  return [...new Set(scopes)];
}

function required(value: string | undefined, name: string): string {
  if (!value) {
    throw new UsageError(`${name} is required`);
  }

  return value;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // node:util's parseArgs: an unknown option, `--credits -5`, ...
  const badArgs = (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_') === true;
  if (
    badArgs ||
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof DatabaseUnreachableError
  ) {
    console.error(`convertd: ${(err as Error).message}`);
    process.exit(2);
  }
  const unique = (err as { code?: string }).code === 'P2002';
  console.error(unique ? 'convertd: a user with that email or username already exists' : err);
  process.exit(1);
});
