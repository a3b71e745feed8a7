import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import type { DevConfig } from '../config';
import { CliError } from '@polaris/cli';
import type { StackLayout } from '../paths';
import type { StackService } from './service';

const BIN = '/usr/lib/postgresql/15/bin';
const USER = 'polaris';
const PASSWORD = 'polaris';
const DATABASE = 'polaris';

interface RunAs {
  uid: number;
  gid: number;
}

// PostgreSQL refuses to run as root, so as root the cluster belongs to the Debian `postgres` user.
async function runAs(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const id = async (flag: string) => Number((await execa('id', [flag, 'postgres'])).stdout.trim());
  try {
    return { uid: await id('-u'), gid: await id('-g') };
  } catch {
    throw new CliError('postgres: running as root needs the `postgres` system user (from the postgresql-15 package)');
  }
}

function ensureOwnedDir(dir: string, owner: RunAs | undefined): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (owner) chownSync(dir, owner.uid, owner.gid);
}

// A unix socket path must fit in 107 bytes; a deep checkout falls back to a short per-stack dir.
function socketDir(layout: StackLayout, port: number): string {
  if (path.join(layout.postgres.socket, `.s.PGSQL.${port}`).length < 100) return layout.postgres.socket;
  const hash = createHash('sha256').update(layout.root).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `polaris-pg-${hash}`);
}

export function postgresService(config: DevConfig, layout: StackLayout): StackService {
  const port = config.ports.postgres;
  const clientConfig = {
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    connectionTimeoutMillis: 2_000,
  };

  async function query(database: string, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
    const client = new pg.Client({ ...clientConfig, database });
    await client.connect();
    try {
      return await client.query(sql, values);
    } finally {
      await client.end();
    }
  }

  return {
    name: 'postgres',
    ports: [port],
    pidFile: layout.pidFile('postgres'),
    logFiles: [layout.postgres.log],
    // SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") waits for every client to leave.
    stopSignal: 'SIGINT',
    requirements: [{ binary: `${BIN}/postgres`, aptPackage: 'postgresql-15' }],

    async prepare() {
      const owner = await runAs();
      ensureOwnedDir(layout.postgres.dir, owner);
      ensureOwnedDir(socketDir(layout, port), owner);
      if (existsSync(path.join(layout.postgres.data, 'PG_VERSION'))) return;
      rmSync(layout.postgres.data, { recursive: true, force: true });
      ensureOwnedDir(layout.postgres.data, owner);
      const pwFile = path.join(layout.postgres.dir, 'initdb-password');
      writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 });
      if (owner) chownSync(pwFile, owner.uid, owner.gid);
      try {
        const result = await execa(
          `${BIN}/initdb`,
          [
            `--pgdata=${layout.postgres.data}`,
            `--username=${USER}`,
            `--pwfile=${pwFile}`,
            '--auth-local=trust',
            '--auth-host=scram-sha-256',
            '--encoding=UTF8',
            '--no-locale',
          ],
          { cwd: layout.postgres.dir, all: true, reject: false, ...(owner ?? {}) },
        );
        if (result.exitCode !== 0) {
          rmSync(layout.postgres.data, { recursive: true, force: true });
          throw new CliError(`postgres: initdb failed (exit ${result.exitCode}):\n  ${(result.all ?? '').split('\n').join('\n  ')}`);
        }
      } finally {
        rmSync(pwFile, { force: true });
      }
    },

    async launch() {
      const owner = await runAs();
      return {
        file: `${BIN}/postgres`,
        args: [
          '-D', layout.postgres.data,
          '-p', String(port),
          '-k', socketDir(layout, port),
          '-c', 'listen_addresses=127.0.0.1',
          // Throwaway local state: durability is traded for speed (`polaris stack reset` recovers).
          '-c', 'fsync=off',
          '-c', 'synchronous_commit=off',
          '-c', 'full_page_writes=off',
        ],
        cwd: layout.postgres.dir,
        output: layout.postgres.log,
        ...(owner ?? {}),
      };
    },

    async probe() {
      await query('postgres', 'SELECT 1');
    },

    async afterReady() {
      const exists = await query('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      // CREATE DATABASE takes no parameters; the name is a constant of this module.
      if (exists.rowCount === 0) await query('postgres', `CREATE DATABASE ${DATABASE} OWNER ${USER}`);
    },
  };
}
