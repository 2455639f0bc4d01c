import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import type http from 'node:http';
import net from 'node:net';
import path from 'node:path';

/** Asks the kernel for a free TCP port on loopback. */
export async function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * What a stand-in offers about its HTTP server: `close()` (cutting the connections clients keep alive) and
 * `openConnections()`, the TCP connections open now (shows whether a client closed its pool). `keepAliveTimeoutMs`
 * replaces Node's 5 s for idle keep-alive connections (clients follow the `Keep-Alive: timeout` hint), so a test
 * can tell a client that closed its pool from one whose idle connection timed out.
 */
export function serverControls(
  server: http.Server,
  options: { keepAliveTimeoutMs?: number | undefined } = {},
): { close(): Promise<void>; openConnections(): Promise<number> } {
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    openConnections: () =>
      new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
  };
}

/** Resolves once a TCP connection to host:port succeeds. */
export async function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `check` until it returns true or the deadline passes; no sleep-and-hope. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface Service {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Sends SIGTERM (then SIGKILL after a grace period) and waits for the process to exit. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns a long-running process whose output goes to `<logDir>/<name>.log`. */
export function spawnService(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions & { logDir: string },
): Service {
  mkdirSync(options.logDir, { recursive: true });
  const logFile = path.join(options.logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    logFile,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
