import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { canConnect, getFreePort, waitFor } from './process';

const run = promisify(execFile);

/** Debian keeps the server binaries out of PATH; prefer the newest installed major version. */
function pgBin(tool: string): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const candidate = path.join(base, v, 'bin', tool);
      if (existsSync(candidate)) return candidate;
    }
  }
  return tool;
}

/** initdb refuses to run as root, so as root every server command runs as the `postgres` user. */
async function asPostgresUser(tool: string, args: string[]): Promise<string> {
  const binary = pgBin(tool);
  const isRoot = userInfo().uid === 0;
  const { stdout } = isRoot ? await run('runuser', ['-u', 'postgres', '--', binary, ...args]) : await run(binary, args);
  return stdout;
}

export interface PostgresOptions {
  dataDir: string;
  port?: number;
  user?: string;
  database?: string;
  /** fsync off and friends: for throwaway test clusters only. */
  fast?: boolean;
}

export interface PostgresServer {
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server (fast shutdown: connections are cut, as in a real outage). */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
  /** Stops it and deletes its data directory. */
  destroy(): Promise<void>;
}

/**
 * Controls a Postgres cluster in `dataDir`. Works from any process (a jest worker can restart the
 * cluster its global setup started), because pg_ctl daemonizes the server.
 */
export function postgresServer(options: Required<Omit<PostgresOptions, 'fast'>> & { fast: boolean }): PostgresServer {
  const { dataDir, port, user, database, fast } = options;
  const serverOptions = [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    "-c unix_socket_directories=''",
    ...(fast ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
  ].join(' ');
  const logFile = path.join(dataDir, 'server.log');
  return {
    url: `postgres://${user}@127.0.0.1:${port}/${database}`,
    port,
    dataDir,
    async stop() {
      if (!existsSync(path.join(dataDir, 'postmaster.pid'))) return;
      await asPostgresUser('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
    },
    async start() {
      if (await canConnect(port)) throw new Error(`Port ${port} is already in use`);
      await asPostgresUser('pg_ctl', ['-D', dataDir, '-o', serverOptions, '-l', logFile, '-w', '-t', '60', 'start']);
    },
    async destroy() {
      await this.stop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates the cluster if `dataDir` is empty, starts it and makes sure the database exists. */
export async function startPostgres(options: PostgresOptions): Promise<PostgresServer> {
  const user = options.user ?? 'hotel';
  const database = options.database ?? 'hotel';
  const port = options.port ?? (await getFreePort());
  const dataDir = path.resolve(options.dataDir);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (userInfo().uid === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(dataDir, Number(stdout.trim()), Number(gid.trim()));
    }
    await asPostgresUser('initdb', ['-D', dataDir, '-U', user, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  }
  const server = postgresServer({ dataDir, port, user, database, fast: options.fast ?? false });
  await server.start();
  await waitFor(`Postgres on port ${port}`, () => canConnect(port), { timeoutMs: 30_000 });
  const psql = pgBin('psql');
  const { stdout } = await run(psql, [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    user,
    '-d',
    'postgres',
    '-tAc',
    `SELECT 1 FROM pg_database WHERE datname = '${database}'`,
  ]);
  if (stdout.trim() !== '1') {
    await run(psql, [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      user,
      '-d',
      'postgres',
      '-c',
      `CREATE DATABASE "${database}"`,
    ]);
  }
  return server;
}
