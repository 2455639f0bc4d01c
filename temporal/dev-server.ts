import { Connection } from '@temporalio/client';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { canConnect, getFreePort, spawnService, waitFor, type Service } from '../dev/process';
import { projectRoot } from '../dev/paths';
import { searchAttributeDefinitions } from '../lib/domain/search-attributes';

/** Where temporal/install-cli.sh puts the CLI. */
export const temporalBinary = path.join(projectRoot, '.data', 'bin', 'temporal');

export interface DevServerOptions {
  /** gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port, on 127.0.0.1; 8233 by convention. Ignored when `headless`. */
  uiPort?: number;
  headless?: boolean;
  /** SQLite file; persistent across restarts. In-memory when omitted. */
  dbFile?: string;
  logDir: string;
  /**
   * The payload codec endpoint the Web UI decodes through (`http://localhost:<api port>/codec`, the API's), as the
   * operator's browser reaches it. Ignored when `headless`.
   */
  uiCodecEndpoint?: string;
  /** Extra dynamic config, e.g. `limit.historyCount.suggestContinueAsNew` to exercise continue-as-new in tests. */
  dynamicConfig?: Record<string, string | number | boolean>;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  service: Service;
  stop(): Promise<void>;
}

/**
 * Starts the real Temporal server (`temporal server start-dev`) with the project's search attributes
 * registered, and resolves once it answers gRPC requests.
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  if (!existsSync(temporalBinary)) {
    throw new Error(`No Temporal CLI at ${temporalBinary}: run 'bash temporal/install-cli.sh' first`);
  }
  const port = options.port ?? (await getFreePort());
  if (await canConnect(port)) throw new Error(`Port ${port} is already in use; is another Temporal server running?`);
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  // The same SQLite settings Temporal's own SDK CI uses: much faster, and a dev server needs no fsync.
  args.push('--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF');
  let uiUrl: string | undefined;
  if (options.headless) {
    args.push('--headless');
  } else {
    const uiPort = options.uiPort ?? 8233;
    // The UI has no login and can signal, cancel and terminate workflows: loopback only, said explicitly so
    // it stays there even if the frontend's --ip ever changes (the CLI's --ui-ip defaults to --ip).
    args.push('--ui-ip', '127.0.0.1', '--ui-port', String(uiPort));
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
    uiUrl = `http://localhost:${uiPort}`;
  }
  for (const [name, type] of Object.entries(searchAttributeDefinitions)) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  const service = spawnService('temporal', temporalBinary, args, { logDir: options.logDir });
  const address = `127.0.0.1:${port}`;
  try {
    await waitFor(
      `the Temporal dev server on ${address} (log: ${service.logFile})`,
      async () => {
        if (service.child.exitCode !== null) throw new Error(`temporal exited with code ${service.child.exitCode}`);
        if (!(await canConnect(port))) return false;
        const connection = await Connection.connect({ address, connectTimeout: 1_000 });
        try {
          await connection.workflowService.getSystemInfo({});
          return true;
        } finally {
          await connection.close();
        }
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  } catch (err) {
    await service.stop();
    throw err;
  }
  return { address, uiUrl, service, stop: () => service.stop() };
}
