import autocannon from 'autocannon';
import { cpuMeter } from './proc';
import { median, summarize, type Summary } from './stats';
import type { Process, System } from './system';
import { newGuest, textWebhook } from './webhooks';

export type Target = 'api' | 'bare' | 'hmac';

export interface Round {
  target: Target;
  connections: number;
  round: number;
  requests: number;
  reqPerSec: number;
  latency: Summary;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
  cpu: Record<string, number | null>;
}

export interface IngressResult {
  seconds: number;
  rounds: Round[];
  /** Per target and connection count: median over the rounds. */
  summary: {
    target: Target;
    connections: number;
    reqPerSec: number | null;
    p50: number | null;
    p95: number | null;
    p99: number | null;
    errors: number;
    cpu: Record<string, number | null>;
  }[];
  /** Per connection count: median over rounds of (our API ÷ bare) and (our API ÷ HMAC-only), rounds paired. */
  ratios: { connections: number; apiOverBare: number | null; apiOverHmac: number | null }[];
}

/** One autocannon run: every request a new guest's signed text message, so each starts a new conversation. */
async function hammer(system: System, url: string, connections: number, seconds: number) {
  const latencies: number[] = [];
  const options: autocannon.Options = {
    url: `${url}/webhooks/whatsapp`,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const hook = textWebhook(system.appSecret, system.phoneNumberId, newGuest(), 'Hola');
          return {
            ...req,
            body: hook.body,
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': hook.signature },
          };
        },
      },
    ],
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (err, done) => (err ? reject(err as Error) : resolve(done)));
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  return {
    requests: result.requests.total,
    reqPerSec: Number((result.requests.total / seconds).toFixed(1)),
    latency: summarize(latencies),
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * Interleaved, paired rounds: in each round every target runs once, in an order that rotates from round to round,
 * so drift over time (the database growing, other jobs on the machine) weighs on all targets alike. The three
 * targets start conversations on a task queue no worker polls, so no worker backlog carries over between runs.
 */
export async function ingress(
  system: System,
  targets: Record<Target, Process>,
  options: { rounds: number; seconds: number; connections: number[] },
): Promise<IngressResult> {
  const order: Target[] = ['api', 'bare', 'hmac'];
  const rounds: Round[] = [];
  for (const connections of options.connections) {
    for (let round = 1; round <= options.rounds; round++) {
      const rotated = [...order.slice(round % 3), ...order.slice(0, round % 3)];
      for (const target of rotated) {
        const meter = cpuMeter({
          temporal: system.temporal.pid,
          [target]: targets[target].pid,
          worker: system.worker.pid,
          'load generator': process.pid,
        });
        const run = await hammer(system, targets[target].url, connections, options.seconds);
        rounds.push({ target, connections, round, ...run, cpu: meter.stop() });
        console.log(
          `  ingress ${target} ${connections} conns round ${round}: ${run.reqPerSec} req/s, p99 ${run.latency.p99} ms, ${run.errors} errors`,
        );
      }
    }
  }
  const summary = options.connections.flatMap((connections) =>
    order.map((target) => {
      const mine = rounds.filter((r) => r.target === target && r.connections === connections);
      const med = (pick: (r: Round) => number | null) => {
        const m = median(mine.map(pick).filter((v): v is number => v !== null));
        return m === null ? null : Number(m.toFixed(2));
      };
      const cpuKeys = Object.keys(mine[0]?.cpu ?? {});
      return {
        target,
        connections,
        reqPerSec: med((r) => r.reqPerSec),
        p50: med((r) => r.latency.p50),
        p95: med((r) => r.latency.p95),
        p99: med((r) => r.latency.p99),
        errors: mine.reduce((n, r) => n + r.errors, 0),
        cpu: Object.fromEntries(cpuKeys.map((k) => [k, med((r) => r.cpu[k] ?? null)])),
      };
    }),
  );
  const ratios = options.connections.map((connections) => {
    const rps = (target: Target, round: number) =>
      rounds.find((r) => r.target === target && r.connections === connections && r.round === round)?.reqPerSec ?? 0;
    const paired = (other: Target) =>
      median(
        Array.from({ length: options.rounds }, (_, i) => i + 1)
          .filter((round) => rps(other, round) > 0)
          .map((round) => rps('api', round) / rps(other, round)),
      );
    const round3 = (v: number | null) => (v === null ? null : Number(v.toFixed(3)));
    return { connections, apiOverBare: round3(paired('bare')), apiOverHmac: round3(paired('hmac')) };
  });
  return { seconds: options.seconds, rounds, summary, ratios };
}
