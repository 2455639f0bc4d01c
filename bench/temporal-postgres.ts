/**
 * A Temporal server on Postgres, what production runs, for `npm run bench -- --temporal-postgres`.
 *
 * Built from its Go module through the module proxy, as temporal/install-cli.sh builds the CLI, into
 * ~/.cache/hotel-messaging (once; later runs reuse it). The schema comes from the same module in Go's module
 * cache. Each run starts a throwaway Postgres (dev/postgres.ts) and the server on free ports, registers the
 * namespace and the project's search attributes, and deletes it all afterwards.
 */
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal as proto } from '@temporalio/proto';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startPostgres } from '../dev/postgres';
import { spawnService, waitFor } from '../dev/process';
import { ConversationStatus, searchAttributeDefinitions } from '../lib/domain/search-attributes';
import type { TemporalUnderTest } from './system';

const run = promisify(execFile);
export const temporalServerVersion = 'v1.29.2';
const modulePath = 'go.temporal.io/server';

/** Builds `server` and the schema tool `sql` once; returns their paths and the module's Postgres schema folder. */
async function ensureServerBuild(): Promise<{ server: string; sqlTool: string; schemaDir: string }> {
  const cacheRoot = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const bin = path.join(cacheRoot, 'hotel-messaging', `temporal-server-${temporalServerVersion}`);
  const server = path.join(bin, 'server');
  const sqlTool = path.join(bin, 'sql');
  const goEnv = { ...process.env, GOBIN: bin, GOFLAGS: '-buildvcs=false' };
  for (const [binary, pkg] of [
    [server, 'cmd/server'],
    [sqlTool, 'cmd/tools/sql'],
  ] as const) {
    if (existsSync(binary)) continue;
    console.log(`  building ${modulePath}/${pkg}@${temporalServerVersion} with go install (minutes, once)`);
    mkdirSync(bin, { recursive: true });
    await run('go', ['install', `${modulePath}/${pkg}@${temporalServerVersion}`], {
      env: goEnv,
      cwd: os.tmpdir(),
      maxBuffer: 16 * 2 ** 20,
    });
  }
  // The module (and its schema files) may have left the module cache since the build: fetch it again if so.
  const { stdout } = await run('go', ['mod', 'download', '-json', `${modulePath}@${temporalServerVersion}`], {
    env: goEnv,
    cwd: os.tmpdir(),
  });
  const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  return { server, sqlTool, schemaDir: path.join(moduleDir, 'schema', 'postgresql', 'v12') };
}

/** The server's static config: all four services in one process on loopback, Postgres for history and visibility. */
function serverConfig(pgPort: number, ports: number[], dynamicConfigFile: string) {
  const [frontend, http, history, matching, worker, mFrontend, mHistory, mMatching, mWorker] = ports;
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${pgPort}`,
      connectProtocol: 'tcp',
      user: 'temporal',
      password: '',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number | undefined, membershipPort: number | undefined, httpPort?: number) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...(httpPort ? { httpPort } : {}) },
  });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: 4,
      datastores: { default: store('temporal', 20), visibility: store('temporal_visibility', 10) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: service(frontend, mFrontend, http),
      history: service(history, mHistory),
      matching: service(matching, mMatching),
      worker: service(worker, mWorker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${frontend}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

/** Starts Postgres and the Temporal server under `dir`, ready for the system: namespace and search attributes. */
export async function startTemporalPostgres(dir: string): Promise<TemporalUnderTest> {
  const build = await ensureServerBuild();
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // the postgres user must reach its data directory
  const postgres = await startPostgres({ dataDir: path.join(dir, 'postgres'), user: 'temporal', database: 'postgres' });
  const sql = async (database: string, ...args: string[]) => {
    const flags = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(postgres.port), '-u', 'temporal'];
    await run(build.sqlTool, [...flags, '--db', database, ...args], { maxBuffer: 16 * 2 ** 20 });
  };
  try {
    for (const [database, folder] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'visibility'],
    ] as const) {
      await sql(database, 'create-database');
      await sql(database, 'setup-schema', '-v', '0.0');
      await sql(database, 'update-schema', '-d', path.join(build.schemaDir, folder, 'versioned'));
    }
    const ports: number[] = [];
    while (ports.length < 9) {
      const port = await lowFreePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const configDir = path.join(dir, 'config');
    mkdirSync(configDir, { recursive: true });
    const dynamicConfigFile = path.join(configDir, 'dynamic.yaml');
    // JSON is YAML. Refreshing search attributes on read makes them usable as soon as they are added.
    writeFileSync(
      dynamicConfigFile,
      JSON.stringify({ 'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true }] }),
    );
    writeFileSync(
      path.join(configDir, 'bench.yaml'),
      JSON.stringify(serverConfig(postgres.port, ports, dynamicConfigFile)),
    );
    const service = spawnService(
      'temporal-server',
      build.server,
      ['--root', dir, '--config', 'config', '--env', 'bench', '--allow-no-auth', 'start'],
      { logDir: dir, cwd: dir },
    );
    const address = `127.0.0.1:${ports[0]}`;
    const stop = async () => {
      await service.stop();
      await postgres.destroy();
    };
    try {
      await register(address, service.logFile, () => service.child.exitCode !== null);
    } catch (err) {
      await stop();
      throw err;
    }
    return {
      label: `Temporal server ${temporalServerVersion} on Postgres (4 history shards, fsync on)`,
      address,
      pid: service.child.pid ?? 0,
      dbBytes: () => Promise.resolve(null),
      stop,
    };
  } catch (err) {
    await postgres.destroy();
    throw err;
  }
}

/**
 * A free port below 32768: the server stores its membership ports in a Postgres `smallint`, so the kernel's
 * ephemeral ports (32768 and up) make it exit with "out of range for type smallint".
 */
async function lowFreePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** Registers the `default` namespace and the project's search attributes once the frontend answers. */
async function register(address: string, logFile: string, exited: () => boolean): Promise<void> {
  const Indexed = proto.api.enums.v1.IndexedValueType;
  const types = {
    Keyword: Indexed.INDEXED_VALUE_TYPE_KEYWORD,
    Text: Indexed.INDEXED_VALUE_TYPE_TEXT,
    Int: Indexed.INDEXED_VALUE_TYPE_INT,
    Bool: Indexed.INDEXED_VALUE_TYPE_BOOL,
    Datetime: Indexed.INDEXED_VALUE_TYPE_DATETIME,
  };
  let connection: Connection | undefined;
  await waitFor(
    `the Temporal server on ${address} (log: ${logFile})`,
    async () => {
      if (exited()) return true;
      connection ??= await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      return true;
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  if (exited()) {
    const log = readFileSync(logFile, 'utf8').split('\n').slice(-5).join('\n');
    throw new Error(`The Temporal server exited during start; the end of its log:\n${log}`);
  }
  const c = connection!;
  try {
    await waitFor(
      'the default namespace',
      async () => {
        try {
          await c.workflowService.registerNamespace({
            namespace: 'default',
            workflowExecutionRetentionPeriod: msToTs('1 day'),
          });
        } catch (err) {
          if (!/already exists/i.test(String(err))) throw err;
        }
        await c.workflowService.describeNamespace({ namespace: 'default' });
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    await c.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(Object.entries(searchAttributeDefinitions).map(([k, t]) => [k, types[t]])),
    });
    await waitFor(
      'the search attributes',
      async () => {
        const { customAttributes } = await c.operatorService.listSearchAttributes({ namespace: 'default' });
        return Object.keys(searchAttributeDefinitions).every((k) => customAttributes?.[k] !== undefined);
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    // Every service learns of a new namespace within its cache refresh: probe until a start with them succeeds.
    const client = new Client({ connection: c });
    let probe = 0;
    await waitFor(
      'a workflow start in the new namespace',
      async () => {
        const handle = await client.workflow.start('probe', {
          taskQueue: 'bench-probe',
          workflowId: `bench-probe-${++probe}`,
          typedSearchAttributes: [{ key: ConversationStatus, value: 'active' }],
        });
        await handle.terminate('probe');
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
  } finally {
    await c.close();
  }
}
