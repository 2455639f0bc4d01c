import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Recorded workflow histories, kept by version: `test/histories/<workflow>/<version>/<scenario>.json`.
 * A version is what one released build of the workflow code recorded; it is never overwritten, so the replay test
 * keeps proving that conversations started by every earlier release survive a deploy of today's code.
 */
export const historiesDir = path.join(__dirname, '..', 'histories');

/**
 * The payload key the recorder encrypts histories with (v2 on; v1 was recorded before the codec, in clear), and
 * that the replay test decodes them with. Test data: public on purpose, never a deployment's key.
 */
export const historyPayloadKeys = 'histories-1:5eDXdA+CBo5WdFoY2hAx4zGY8Y1duhaCoyWWEJvoV2M=';

/** `v1`, `v2`, …; the recorder also accepts a suffix (`v-scratch`) for a trial run outside the repo's versions. */
export const versionPattern = /^v[0-9a-z-]+$/;

export interface RecordedHistory {
  workflow: string;
  version: string;
  scenario: string;
  file: string;
}

function subdirs(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort()
    : [];
}

/** Every recorded history, by workflow, version and scenario. */
export function listHistories(root = historiesDir): RecordedHistory[] {
  return subdirs(root).flatMap((workflow) =>
    subdirs(path.join(root, workflow)).flatMap((version) =>
      readdirSync(path.join(root, workflow, version))
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => ({
          workflow,
          version,
          scenario: f.replace(/\.json$/, ''),
          file: path.join(root, workflow, version, f),
        })),
    ),
  );
}

export interface HistoryJson {
  events: Record<string, any>[];
}

/** The history as the Temporal CLI (and the Web UI's download) writes it: canonical proto3 JSON. */
export function readHistoryJson(file: string): HistoryJson {
  return JSON.parse(readFileSync(file, 'utf8')) as HistoryJson;
}

/** The workflow type a history starts, as the server recorded it. */
export function workflowTypeOf(json: HistoryJson): string | undefined {
  return json.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name as string | undefined;
}

/** The workflow id the history ran under, as its start event records it. */
export function workflowIdOf(json: HistoryJson): string | undefined {
  return json.events[0]?.workflowExecutionStartedEventAttributes?.workflowId as string | undefined;
}

/**
 * A history ready for `Worker.runReplayHistories`, under the workflow id it was recorded with: a workflow that derives
 * commands from its own id (the booking saga names its stay messages' child after its reference) replays only under
 * that id. A history without one is named after its place in the catalogue.
 */
export function replayable(h: RecordedHistory): { workflowId: string; history: ReturnType<typeof historyFromJSON> } {
  const json = readHistoryJson(h.file);
  return {
    workflowId: workflowIdOf(json) ?? `replay-${h.workflow}-${h.version}-${h.scenario}`,
    history: historyFromJSON(json),
  };
}

/**
 * Everything a reader of `temporal workflow show --output json` (or of Temporal's database) can read: the JSON itself
 * and every payload's bytes, base64-decoded (a payload in clear is base64 JSON there, not hidden).
 */
export function readableText(showOutput: string): string {
  const decoded: string[] = [];
  const walk = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    for (const [key, item] of Object.entries(value)) {
      if (key === 'data' && typeof item === 'string') decoded.push(Buffer.from(item, 'base64').toString('utf8'));
      else walk(item);
    }
  };
  walk(JSON.parse(showOutput));
  return [showOutput, ...decoded].join('\n');
}
