/**
 * `npm run bench [-- --quick] [-- --only steps,e2e,booking,ingress,density] [-- --temporal-postgres]`
 *
 * Starts a fresh Temporal dev server and everything else on free ports, measures, and writes
 * bench/results/<date>.json and .md. See bench/README.md for what each section measures.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporalBinary } from '../temporal/dev-server';
import { renderMarkdown, type BenchResults } from './report';
import { sections, suite, type Plan, type Section } from './suite';
import { startDevServer } from './system';
import { startTemporalPostgres } from './temporal-postgres';

const usage =
  'Usage: npm run bench -- [--quick] [--only steps,e2e,booking,ingress,density] [--temporal-postgres] [--dev-server-config key=value]...';

function parseArgs(argv: string[]) {
  const only = new Set<Section>();
  const devServerConfig: Record<string, string | number | boolean> = {};
  let quick = false;
  let postgres = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--temporal-postgres') postgres = true;
    else if (arg === '--only') {
      for (const name of (argv[++i] ?? '').split(',')) {
        if (!sections.includes(name as Section)) throw new Error(`--only takes ${sections.join(', ')}; got "${name}"`);
        only.add(name as Section);
      }
    } else if (arg === '--dev-server-config') {
      const [key, value] = (argv[++i] ?? '').split('=');
      if (!key || value === undefined) throw new Error('--dev-server-config takes key=value');
      const number = Number(value);
      devServerConfig[key] = value === 'true' || (value !== 'false' && (Number.isNaN(number) ? value : number));
    } else throw new Error(`Unknown argument ${arg}. ${usage}`);
  }
  return { quick, postgres, devServerConfig, sections: only.size > 0 ? [...only] : [...sections] };
}

/** Durations and counts: full (the committed result) and quick (a smoke run of a few minutes). */
const plans: Record<'full' | 'quick', Plan> = {
  full: {
    stepsMessages: 30,
    e2eSeconds: 60,
    followUpGuests: 20,
    bookingGuests: 20,
    ingress: { rounds: 5, seconds: 10, connections: [10, 50] },
    density: { conversations: 10_000, probes: 10 },
  },
  quick: {
    stepsMessages: 10,
    e2eSeconds: 10,
    followUpGuests: 10,
    bookingGuests: 5,
    ingress: { rounds: 2, seconds: 3, connections: [10, 50] },
    density: { conversations: 3_000, probes: 5 },
  },
};

/** Fraction of the machine's cores busy over one second, from /proc/stat: what else is running. */
async function machineBusyCores(): Promise<number | null> {
  const read = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3]! + (fields[4] ?? 0);
    return { idle, total: fields.reduce((a, b) => a + b, 0) };
  };
  try {
    const a = read();
    await new Promise((r) => setTimeout(r, 1000));
    const b = read();
    return Number((((b.total - b.idle - (a.total - a.idle)) / (b.total - a.total)) * os.cpus().length).toFixed(2));
  } catch {
    return null;
  }
}

function versions() {
  const pkg = (name: string) =>
    (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  let temporalCli = 'unknown';
  try {
    temporalCli = execFileSync(temporalBinary, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as unknown
  }
  return { node: process.version, temporalSdk: pkg('@temporalio/worker'), temporalCli, autocannon: pkg('autocannon') };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan = args.quick ? plans.quick : plans.full;
  const started = new Date();
  const machine = {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    busyCoresBefore: await machineBusyCores(),
    loadAverageBefore: os.loadavg().map((v) => Number(v.toFixed(2))),
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hotel-messaging-bench-'));
  chmodSync(dir, 0o755); // the postgres user must reach its data directory
  const results: BenchResults = {
    date: started.toISOString(),
    mode: args.quick ? 'quick' : 'full',
    sections: args.sections,
    plan,
    machine,
    versions: versions(),
  };
  try {
    const devServer = await startDevServer(path.join(dir, 'temporal'), args.devServerConfig);
    try {
      results.devServer = await suite(path.join(dir, 'dev'), devServer, args.sections, plan);
    } finally {
      await devServer.stop();
    }
    if (args.postgres) {
      console.log('Temporal server on Postgres');
      const server = await startTemporalPostgres(path.join(dir, 'temporal-pg'));
      try {
        const chosen = args.sections.filter((s) => s === 'steps' || s === 'e2e');
        results.temporalPostgres = await suite(path.join(dir, 'pg'), server, chosen, plan);
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  Object.assign(machine, {
    busyCoresAfter: await machineBusyCores(),
    loadAverageAfter: os.loadavg().map((v) => Number(v.toFixed(2))),
    seconds: Math.round((Date.now() - started.getTime()) / 1000),
  });
  const outDir = path.join(__dirname, 'results');
  mkdirSync(outDir, { recursive: true });
  const stamp = started.toISOString().slice(0, 16).replace(':', '');
  const base = path.join(outDir, `${stamp}${args.quick ? '-quick' : ''}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${base}.md`, renderMarkdown(results));
  console.log(`\nWrote ${path.relative(process.cwd(), base)}.json and .md`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
