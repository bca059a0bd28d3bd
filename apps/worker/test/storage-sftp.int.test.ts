// import/sftp and export/sftp through the official node SDK against OpenSSH's sshd, started by
// the test on a free 127.0.0.1 port with its own config, host key and authorized_keys. Both
// accounts may only use SFTP, and the files live in a temp dir (not a chroot: sshd refuses one
// under the world-writable /tmp). root signs in with a key made here (nothing of the machine
// changes); a password account `convertd-sftp` (no home, no shell) gets a new random password
// each run.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, freePort } from '../../../test/harness';
import { byName, createJob, expectFinished, sdkStack, taskOf, waitJob } from './support';
import { spawnServer, type ChildServer } from './storage-support';

const SSHD = '/usr/sbin/sshd';
const PASSWORD_USER = 'convertd-sftp';
const canRun = fs.existsSync(SSHD) && process.getuid?.() === 0;

const sdk = sdkStack('sftp');
let sshd: ChildServer;
let dir: string;
let jail: string;
let port: number;
let clientKey: string;
const password = randomBytes(12).toString('hex');

beforeAll(async () => {
  if (!canRun) {
    return;
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convertd-sshd-'));
  fs.chmodSync(dir, 0o755);
  jail = path.join(dir, 'jail');
  fs.mkdirSync(path.join(jail, 'data', 'batch'), { recursive: true });
  fs.mkdirSync(path.join(jail, 'out'), { mode: 0o777 });
  fs.chmodSync(path.join(jail, 'out'), 0o777);
  fs.writeFileSync(path.join(jail, 'data', 'report.txt'), 'sftp report\n');
  fs.writeFileSync(path.join(jail, 'data', 'batch', 'a.txt'), 'first');
  fs.writeFileSync(path.join(jail, 'data', 'batch', 'b.txt'), 'second');
  fs.mkdirSync(path.join(jail, 'data', 'batch', 'sub'));

  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client')]);
  clientKey = fs.readFileSync(path.join(dir, 'client'), 'utf8');
  fs.copyFileSync(path.join(dir, 'client.pub'), path.join(dir, 'authorized_keys'));
  ensurePasswordUser();
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${path.join(dir, 'host')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    `AllowUsers root ${PASSWORD_USER}`,
    'Subsystem sftp internal-sftp',
    'ForceCommand internal-sftp',
    'AllowTcpForwarding no',
    'X11Forwarding no',
  ];
  fs.writeFileSync(path.join(dir, 'sshd_config'), `${config.join('\n')}\n`);
  sshd = await spawnServer(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], port);
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The password account: created once (no home, no login shell), its password set each run. */
function ensurePasswordUser(): void {
  try {
    execFileSync('id', [PASSWORD_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', PASSWORD_USER]);
  }
  execFileSync('chpasswd', { input: `${PASSWORD_USER}:${password}\n` });
}

const byKey = () => ({ host: '127.0.0.1', port, username: 'root', private_key: clientKey });
// Java sends the port as a string.
const byPassword = () => ({
  host: '127.0.0.1',
  port: String(port),
  username: PASSWORD_USER,
  password,
});

describe.runIf(canRun)('SFTP through the official SDK', () => {
  it('imports a file with a key and exports it with a password into a directory', async () => {
    const job = await sdk.runJob({
      in: { operation: 'import/sftp', ...byKey(), file: `${jail}/data/report.txt` },
      out: {
        operation: 'export/sftp',
        input: 'in',
        ...byPassword(),
        path: `${jail}/out/key-to-password`,
      },
    });
    // The directory must exist first: an export does not create directories.
    expect(job.status).toBe('error');
    expect(taskOf(job, 'out').message).toBe(
      `The SFTP server has no file or directory "${jail}/out/key-to-password/report.txt".`,
    );

    fs.mkdirSync(path.join(jail, 'out', 'key-to-password'), { mode: 0o777 });
    fs.chmodSync(path.join(jail, 'out', 'key-to-password'), 0o777);
    const again = await sdk.runJob({
      in: {
        operation: 'import/sftp',
        ...byKey(),
        file: `${jail}/data/report.txt`,
        filename: 'r.txt',
      },
      out: {
        operation: 'export/sftp',
        input: 'in',
        ...byPassword(),
        path: `${jail}/out/key-to-password`,
      },
    });
    expectFinished(again);
    expect(fs.readFileSync(path.join(jail, 'out', 'key-to-password', 'r.txt'), 'utf8')).toBe(
      'sftp report\n',
    );
  });

  it('imports every file of a directory and exports them to numbered file names', async () => {
    const job = await sdk.runJob({
      in: { operation: 'import/sftp', ...byPassword(), path: `${jail}/data/batch` },
      out: { operation: 'export/sftp', input: 'in', ...byKey(), file: `${jail}/out/part-%d.txt` },
    });

    expectFinished(job);
    expect(taskOf(job, 'in').result?.files?.map((f) => f.filename)).toEqual(['a.txt', 'b.txt']);
    expect(fs.readFileSync(path.join(jail, 'out', 'part-1.txt'), 'utf8')).toBe('first');
    expect(fs.readFileSync(path.join(jail, 'out', 'part-2.txt'), 'utf8')).toBe('second');
  });
});

describe.runIf(canRun)('SFTP failures', () => {
  const failing = async (task: Record<string, unknown>) => {
    const created = await createJob(sdk.stack, sdk.key, { t: task });
    return byName(await waitJob(sdk.stack, sdk.key, created.id), 't');
  };

  it('says authentication failed for a wrong password, without the password', async () => {
    const task = await failing({
      operation: 'import/sftp',
      ...byPassword(),
      password: 'wrong-password-1234',
      file: `${jail}/data/report.txt`,
    });
    expect(task).toMatchObject({ status: 'error', code: 'IMPORT_FAILED' });
    expect(task.message).toBe(
      'The SFTP server refused the user name, password or private key (authentication failed).',
    );
  });

  it('names a missing file', async () => {
    const task = await failing({
      operation: 'import/sftp',
      ...byKey(),
      file: `${jail}/data/none.txt`,
    });
    expect(task).toMatchObject({ status: 'error', code: 'IMPORT_FAILED' });
    expect(task.message).toBe(`The SFTP server has no file or directory "${jail}/data/none.txt".`);
  });

  it('says a private key that is not one cannot be read', async () => {
    const task = await failing({
      operation: 'import/sftp',
      ...byKey(),
      private_key: 'not a key',
      file: `${jail}/data/report.txt`,
    });
    expect(task).toMatchObject({ status: 'error', code: 'IMPORT_FAILED' });
    expect(task.message).toMatch(/^The private key could not be read/);
  });

  it('says the host refused the connection when nothing listens', async () => {
    const task = await failing({
      operation: 'import/sftp',
      ...byKey(),
      port: await freePort(),
      file: `${jail}/data/report.txt`,
    });
    expect(task.message).toBe('The SFTP server refused the connection (ECONNREFUSED).');
  });
});

describe('SFTP fields at creation', () => {
  it('accepts made-up credentials and a port as a string', async () => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/import/sftp', {
      host: 'sftp.example.com',
      port: '2222',
      username: 'someone',
      password: 'secret',
      path: 'incoming/',
    });
    expect(res.status).toBe(201);
  });

  it('refuses a bad port and a missing host, credentials and file, naming each field', async () => {
    const res = await api(sdk.stack, sdk.key, 'POST', '/v2/import/sftp', {
      username: 'someone',
      port: 'ssh',
    });
    expect(res.status).toBe(422);
    expect(Object.keys(res.json.errors).sort()).toEqual(['file', 'host', 'password', 'port']);
  });
});
