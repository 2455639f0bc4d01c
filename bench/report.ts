import type { LoadResult } from './e2e';
import type { Summary } from './stats';
import type { StepRow } from './steps';
import type { Plan, SuiteResult } from './suite';

export interface BenchResults {
  date: string;
  mode: 'quick' | 'full';
  sections: string[];
  plan: Plan;
  machine: {
    cores: number;
    cpuModel: string;
    memoryBytes: number;
    /** Cores busy with other work just before the benchmark started and just after it stopped. */
    busyCoresBefore: number | null;
    busyCoresAfter?: number | null;
    loadAverageBefore: number[];
    loadAverageAfter?: number[];
    seconds?: number;
  };
  versions: { node: string; temporalSdk: string; temporalCli: string; autocannon: string };
  devServer?: SuiteResult;
  temporalPostgres?: SuiteResult;
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${v}`);
const mib = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${(v / 2 ** 20).toFixed(1)} MiB`);
const cores = (cpu: Record<string, number | null> | undefined) =>
  Object.entries(cpu ?? {})
    .map(([name, v]) => `${name} ${v ?? '–'}`)
    .join(', ');

function table(head: string[], rows: (string | number)[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
}

function loadRow(name: string, r: LoadResult | undefined): (string | number)[] {
  if (!r) return [name, '–', '–', '–', '–', '–', '–', '–', '–'];
  return [
    name,
    `${r.replies}/${r.sent}`,
    ms(r.reply.p50),
    ms(r.reply.p95),
    ms(r.reply.p99),
    ms(r.reply.max),
    `${ms(r.webhook.p50)} / ${ms(r.webhook.p99)}`,
    cores(r.cpu),
    `${r.seconds} s`,
  ];
}

function stepsTable(all: [string, StepRow[] | undefined][]): string {
  const columns = all.filter(([, rows]) => rows !== undefined);
  const labels = [...new Set(columns.flatMap(([, rows]) => (rows ?? []).map((r) => r.label)))];
  const cell = (rows: StepRow[] | undefined, label: string) => {
    const row = rows?.find((r) => r.label === label);
    return row ? `${ms(row.p50)} / ${ms(row.p95)}` : '–';
  };
  return table(
    ['step', ...columns.map(([name]) => `${name}: p50 / p95 ms`)],
    labels.map((label) => [label, ...columns.map(([, rows]) => cell(rows, label))]),
  );
}

const summaryCells = (s: Summary) => [s.count, ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max)];

function suiteMarkdown(title: string, s: SuiteResult): string {
  const out = [`## ${title}`, '', `Temporal: ${s.temporal}.`, ''];
  if (s.e2e) {
    out.push(
      '### End to end: webhook posted → reply at the Graph API stand-in (ms)',
      '',
      table(
        ['load', 'replies/sent', 'p50', 'p95', 'p99', 'max', 'webhook 200 p50 / p99', 'cores used', 'duration'],
        [
          loadRow('new guests at 10/s', s.e2e.newGuests10),
          loadRow('new guests at 50/s', s.e2e.newGuests50),
          loadRow(`follow-ups at 10/s (${s.e2e.followUps10.guests} guests)`, s.e2e.followUps10),
        ],
      ),
    );
  }
  if (s.booking) {
    out.push(
      `### Booking conversation (${s.booking.guests} guests, one at a time; ${s.booking.bookedAtPms} booked at the PMS${s.booking.failures.length ? `, failures: ${s.booking.failures.join('; ')}` : ''})`,
      '',
      table(
        ['step', 'n', 'p50', 'p95', 'p99', 'max'],
        [
          ['availability question → offer', ...summaryCells(s.booking.offers)],
          ['choice → confirmation', ...summaryCells(s.booking.confirmations)],
        ],
      ),
    );
  }
  if (s.steps || s.e2e?.newGuests10Steps) {
    out.push(
      "### Where the time goes: a new guest's first message, step by step (ms, from the workflow history)",
      '',
      stepsTable([
        [`one at a time, back to back (${s.steps?.messages ?? 0})`, s.steps?.firstMessage],
        [`one at a time, each after ${s.steps?.idleMs ?? 0} ms idle`, s.steps?.firstMessageAfterIdle],
        ['new guests at 10/s', s.e2e?.newGuests10Steps],
        ['new guests at 50/s', s.e2e?.newGuests50Steps],
      ]),
    );
  }
  if (s.steps) {
    out.push(
      '### A follow-up in an open conversation, step by step (ms, one at a time, back to back)',
      '',
      stepsTable([[`back to back (${s.steps.messages})`, s.steps.followUp]]),
      '### SDK metrics (worker side, mean ms: the back-to-back messages above, and the 10/s run)',
      '',
      table(
        ['metric', 'back to back: count', 'mean', 'new guests at 10/s: count', 'mean'],
        s.steps.sdkMeans.map((m, i) => {
          const load = s.e2e?.newGuests10.sdkMeans[i];
          return [m.metric, m.count, ms(m.meanMs), load?.count ?? '–', ms(load?.meanMs)];
        }),
      ),
    );
  }
  if (s.ingress) {
    const i = s.ingress;
    out.push(
      `### Ingress: signed new-conversation webhooks, ${i.seconds} s per run, interleaved rounds (medians over rounds)`,
      '',
      table(
        ['target', 'connections', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'cores used'],
        i.summary.map((r) => [
          r.target,
          r.connections,
          ms(r.reqPerSec),
          ms(r.p50),
          ms(r.p95),
          ms(r.p99),
          r.errors,
          cores(r.cpu),
        ]),
      ),
      table(
        ['connections', 'our API ÷ bare signalWithStart', 'our API ÷ HMAC + parse'],
        i.ratios.map((r) => [r.connections, ms(r.apiOverBare), ms(r.apiOverHmac)]),
      ),
    );
  }
  if (s.density) {
    const d = s.density;
    out.push(
      `### Density: ${d.conversations} live conversations on one fresh worker`,
      '',
      table(
        ['measure', 'value'],
        [
          ['replies', `${d.replies}/${d.accepted} accepted (${d.conversations} sent)`],
          ['time to open them all', `${d.seconds} s (${d.repliesPerSecond} conversations/s)`],
          ['worker RSS before → after', `${mib(d.workerRssBytes.before)} → ${mib(d.workerRssBytes.after)}`],
          ['worker sticky cache (conversations in memory)', d.stickyCacheSize],
          [
            'RSS per cached conversation',
            d.rssPerCachedConversationBytes === null
              ? '–'
              : `${(d.rssPerCachedConversationBytes / 1024).toFixed(1)} KiB`,
          ],
          ['Temporal database before → after', `${mib(d.temporalDbBytes.before)} → ${mib(d.temporalDbBytes.after)}`],
          [
            'Temporal database per conversation',
            d.dbPerConversationBytes === null ? '–' : `${(d.dbPerConversationBytes / 1024).toFixed(1)} KiB`,
          ],
          [
            'follow-up to an evicted conversation: p50 / p95 / max ms',
            `${ms(d.evictedReply.p50)} / ${ms(d.evictedReply.p95)} / ${ms(d.evictedReply.max)} (${d.evictedReply.count}; ${d.cacheMissesDuringEvicted} cache misses)`,
          ],
          [
            'follow-up to a cached conversation: p50 / p95 / max ms',
            `${ms(d.cachedReply.p50)} / ${ms(d.cachedReply.p95)} / ${ms(d.cachedReply.max)} (${d.cachedReply.count})`,
          ],
        ],
      ),
    );
  }
  return out.join('\n');
}

/** The results as Markdown: the machine, then a section per Temporal server. */
export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const head = [
    `# Benchmark ${r.date} (${r.mode})`,
    '',
    table(
      ['machine', 'value'],
      [
        ['cores', `${m.cores} × ${m.cpuModel}`],
        ['memory', `${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB`],
        ['Node', r.versions.node],
        ['Temporal TypeScript SDK', r.versions.temporalSdk],
        ['Temporal CLI (dev server)', r.versions.temporalCli.replace(/\n/g, ' ')],
        ['autocannon', r.versions.autocannon],
        [
          'other load on the machine (cores busy before / after the run)',
          `${m.busyCoresBefore ?? '–'} / ${m.busyCoresAfter ?? '–'} (load average before ${m.loadAverageBefore.join(' ')}, after ${m.loadAverageAfter?.join(' ') ?? '–'})`,
        ],
        ['duration', `${m.seconds ?? '–'} s`],
      ],
    ),
  ];
  const parts = [head.join('\n')];
  if (r.devServer) parts.push(suiteMarkdown('Temporal dev server', r.devServer));
  if (r.temporalPostgres) parts.push(suiteMarkdown('Temporal server on Postgres', r.temporalPostgres));
  return `${parts.join('\n')}\n`;
}
