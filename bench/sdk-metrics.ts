/** The worker's SDK metrics (Prometheus text from Temporal's Core SDK), scraped before and after a run. */

export type Scrape = Map<string, number>;

/** `name{labels} value` lines to a map keyed by `name{labels}`; comments and blank lines skipped. */
export function parsePrometheus(text: string): Scrape {
  const series: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    const value = Number(line.slice(at + 1));
    if (at > 0 && Number.isFinite(value)) series.set(line.slice(0, at), value);
  }
  return series;
}

export async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  return parsePrometheus(await res.text());
}

/** The sum of every series of metric `name` whose labels contain `filter` (e.g. `operation="PollActivityTaskQueue"`). */
function total(s: Scrape, name: string, filter = ''): number {
  let sum = 0;
  for (const [key, value] of s) {
    const base = key.includes('{') ? key.slice(0, key.indexOf('{')) : key;
    if (base === name && key.includes(filter)) sum += value;
  }
  return sum;
}

export interface MeanLatency {
  metric: string;
  count: number;
  meanMs: number | null;
}

/** Histograms the SDK records per task, and request latencies of the calls on a message's path. */
const latencies: [string, string][] = [
  ['temporal_workflow_task_schedule_to_start_latency', ''],
  ['temporal_workflow_task_execution_latency', ''],
  ['temporal_workflow_task_replay_latency', ''],
  ['temporal_activity_schedule_to_start_latency', ''],
  ['temporal_activity_execution_latency', ''],
  ['temporal_request_latency', 'operation="RespondWorkflowTaskCompleted"'],
  ['temporal_request_latency', 'operation="RespondActivityTaskCompleted"'],
];

/** Mean of each latency histogram between two scrapes (sum and count deltas), in milliseconds. */
export function meanLatencies(before: Scrape, after: Scrape): MeanLatency[] {
  return latencies.map(([name, filter]) => {
    const count = total(after, `${name}_count`, filter) - total(before, `${name}_count`, filter);
    const sum = total(after, `${name}_sum`, filter) - total(before, `${name}_sum`, filter);
    const label = filter ? `${name}{${filter}}` : name;
    return { metric: label, count, meanMs: count > 0 ? Number((sum / count).toFixed(1)) : null };
  });
}

/** Current value of a gauge or counter summed over its series (e.g. `temporal_sticky_cache_size`). */
export function gauge(s: Scrape, name: string): number {
  return total(s, name);
}
