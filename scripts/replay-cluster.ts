/**
 * The deploy gate: `npm run replay:cluster -- --since 24h`. Fetches the histories of the project's workflows that
 * ran on a cluster lately (every one still running, however old, and every one closed within `--since`), replays
 * them against the workflow code of this working tree, and prints which would fail and why. Exits 1 when any would,
 * so a worker version that would break running conversations does not ship.
 *
 * Options: `--since <n>(s|m|h|d)` (default 24h), `--task-queue <name>` (only that queue's workflows),
 * `--workflows <path>` (the workflow code to replay against; default this tree's `workflows/`). The cluster is the
 * one `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE` and the `TEMPORAL_TLS*` / `TEMPORAL_API_KEY` variables name.
 * Exit status: 0 none would fail, 1 some would fail, 2 the gate could not run.
 */
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, Runtime, Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import path from 'node:path';
import { developmentPayloadKeys, PayloadKeyRing, payloadDataConverter } from '../lib/codec';
import { ConfigError, loadTemporalConfig } from '../lib/config';
import { maskPhones } from '../lib/log';
import { temporalConnectionOptions } from '../lib/temporal';
import type { TemporalConfig } from '../lib/temporal-config';
import { createLogContexts } from '../lib/log-context';
import { disabledTracing } from '../lib/tracing';

export interface ReplayClusterOptions {
  client: Client;
  /** Closed workflows are replayed if they closed at or after this time; running ones always are. */
  since: Date;
  /** The workflow types to fetch; default: every workflow the code at `workflowsPath` exports. */
  workflowTypes?: string[];
  /** The workflow code to replay against: a folder or module `bundleWorkflowCode` accepts. */
  workflowsPath?: string;
  /** A bundle built beforehand, instead of `workflowsPath`. */
  workflowBundle?: { codePath: string };
  /** Only the workflows of this task queue. */
  taskQueue?: string;
  /**
   * How payloads are decoded for replay. The hook for the payload codec: once payloads are encrypted, pass the same
   * data converter (with its `payloadCodecs`) as the worker's, or replay cannot read the histories.
   */
  dataConverter?: DataConverter;
}

export interface ReplayFailure {
  workflowType: string;
  workflowId: string;
  runId: string;
  error: string;
}

export interface ReplayReport {
  query: string;
  replayed: number;
  failures: ReplayFailure[];
}

const defaultWorkflowsPath = path.join(__dirname, '..', 'workflows');

/** The names the workflow code exports as workflows (its exported functions). */
export async function workflowNames(workflowsPath: string): Promise<string[]> {
  const exported = (await import(workflowsPath)) as Record<string, unknown>;
  return Object.keys(exported)
    .filter((name) => typeof exported[name] === 'function')
    .sort();
}

/** Replays the cluster's recent histories of the given workflow types against the working tree's workflow code. */
export async function replayCluster(options: ReplayClusterOptions): Promise<ReplayReport> {
  const workflowsPath = options.workflowsPath ?? defaultWorkflowsPath;
  const types = options.workflowTypes ?? (await workflowNames(workflowsPath));
  const query = [
    `WorkflowType IN (${types.map((t) => `'${t}'`).join(', ')})`,
    `(ExecutionStatus = 'Running' OR CloseTime >= '${options.since.toISOString()}')`,
    ...(options.taskQueue ? [`TaskQueue = '${options.taskQueue}'`] : []),
  ].join(' AND ');
  const typeOf = new Map<string, string>();
  const listed = options.client.workflow.list({ query });
  const histories = (async function* () {
    for await (const execution of listed) {
      typeOf.set(execution.runId, execution.type);
      const history = await options.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      yield { workflowId: execution.workflowId, history };
    }
  })();
  const replayOptions: ReplayWorkerOptions = {
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    replayName: 'replay-cluster',
    // The workflows' log-context and span sinks, as the worker registers them.
    sinks: { ...createLogContexts().sinks, ...disabledTracing().workflowSinks },
  };
  const failures: ReplayFailure[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(replayOptions, histories)) {
    replayed++;
    if (result.error) {
      failures.push({
        workflowType: typeOf.get(result.runId) ?? 'unknown',
        workflowId: result.workflowId,
        runId: result.runId,
        error: result.error.message,
      });
    }
  }
  return { query, replayed, failures };
}

/** What the gate prints: one line per failure (phone-like numbers masked), then the count. */
export function formatReport(report: ReplayReport, since: Date): string[] {
  const lines = report.failures.map(
    // A run id is a UUID, never a number: kept whole so the run can be found.
    (f) => `FAIL ${f.workflowType} ${maskPhones(f.workflowId)} run ${f.runId}: ${maskPhones(f.error)}`,
  );
  lines.push(
    `replayed ${report.replayed} histories (running, or closed since ${since.toISOString()}): ` +
      (report.failures.length === 0 ? 'none would fail' : `${report.failures.length} would fail`),
  );
  return lines;
}

const units = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `24h`, `90m`, `7d`: how far back to look. */
export function parseSince(value: string, now = Date.now()): Date {
  const match = /^(\d+)([smhd])$/.exec(value);
  if (!match) throw new GateError(`--since takes a duration like 24h, 90m or 7d, not ${value}`);
  return new Date(now - Number(match[1]) * units[match[2] as keyof typeof units]);
}

/** The gate could not run (a wrong option or variable, the cluster unreachable): said in one line, exit 2. */
class GateError extends Error {}

function parseArgs(argv: string[]): { since: Date; taskQueue?: string; workflowsPath?: string } {
  const values: Record<string, string> = { '--since': '24h' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i]!, argv[i + 1]];
    if (!['--since', '--task-queue', '--workflows'].includes(flag) || value === undefined) {
      throw new GateError(`Unexpected ${flag}; usage: replay:cluster [--since 24h] [--task-queue q] [--workflows dir]`);
    }
    values[flag] = value;
  }
  return {
    since: parseSince(values['--since']!),
    ...(values['--task-queue'] ? { taskQueue: values['--task-queue'] } : {}),
    ...(values['--workflows'] ? { workflowsPath: path.resolve(values['--workflows']) } : {}),
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  // The cluster's address and credentials, read as the worker and the API read them (envconfig, a profile file).
  let temporal: TemporalConfig;
  try {
    temporal = loadTemporalConfig(process.env);
  } catch (err) {
    throw new GateError(err instanceof ConfigError ? err.message : String(err));
  }
  for (const deprecation of temporal.deprecations) console.error(`warning: ${deprecation}`);
  // The worker's payload keys: the histories' payloads are encrypted (outside production, the public development key).
  const keys = PayloadKeyRing.parse(
    process.env.PAYLOAD_KEYS || developmentPayloadKeys,
    process.env.PAYLOAD_KEY_CURRENT || undefined,
  );
  if (!(keys instanceof PayloadKeyRing)) throw new GateError(`Invalid configuration: ${keys.problems.join('; ')}`);
  const connection = await Connection.connect(temporalConnectionOptions(temporal)).catch((err: unknown) => {
    throw new GateError(
      `Cannot reach Temporal at ${temporal.address}: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: 'ERROR' } } });
  try {
    const client = new Client({ connection, namespace: temporal.namespace });
    const report = await replayCluster({ client, ...args, dataConverter: payloadDataConverter(keys) });
    for (const line of formatReport(report, args.since)) console.log(line);
    return report.failures.length === 0 ? 0 : 1;
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof GateError ? err.message : err);
      process.exit(err instanceof GateError ? 2 : 1);
    },
  );
}
