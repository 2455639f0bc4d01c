import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { canConnect, getFreePort, waitFor } from './process';

const run = promisify(execFile);

export interface RedisOptions {
  dir: string;
  port?: number;
  /** Append-only file on: data survives a restart. Off for throwaway test servers. */
  persistent?: boolean;
}

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** Kills the server without saving, as a crash would. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** Controls a daemonized redis-server; like {@link postgresServer} it works from any process. */
export function redisServer({ dir, port, persistent }: Required<RedisOptions>): RedisServer {
  const pidFile = path.join(dir, 'redis.pid');
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--daemonize',
    'yes',
    '--pidfile',
    pidFile,
    '--logfile',
    path.join(dir, 'redis.log'),
    '--save',
    '',
    '--appendonly',
    persistent ? 'yes' : 'no',
  ];
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      if (!existsSync(pidFile)) return;
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(pidFile, { force: true });
      await waitFor(`redis on port ${port} to stop`, async () => !(await canConnect(port)), { timeoutMs: 10_000 });
    },
    async start() {
      if (await canConnect(port)) throw new Error(`Port ${port} is already in use`);
      await run('redis-server', args);
      await waitFor(`redis on port ${port}`, async () => {
        if (!(await canConnect(port))) return false;
        const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
        return stdout.trim() === 'PONG';
      });
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

export async function startRedis(options: RedisOptions): Promise<RedisServer> {
  const dir = path.resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const server = redisServer({
    dir,
    port: options.port ?? (await getFreePort()),
    persistent: options.persistent ?? false,
  });
  await server.start();
  return server;
}
