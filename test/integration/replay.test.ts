import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { testEnv } from '../helpers/env';

/**
 * Replays every recorded history (`test/histories/*.json`, recorded by `npm run record-histories`)
 * against the current workflow code. A change that breaks determinism for running conversations
 * fails here, before it ships.
 */
const dir = path.join(__dirname, '..', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

function load(file: string): { workflowId: string; history: ReturnType<typeof historyFromJSON> } {
  const json = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { events: Record<string, any>[] };
  return { workflowId: `replay-${file}`, history: historyFromJSON(json) };
}

beforeAll(() => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this worker process
  }
});

it('has recorded histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(3);
});

it('replays every recorded history without a determinism error', async () => {
  const histories = files.map((file) => load(file));
  const results = Worker.runReplayHistories({ workflowBundle: { codePath: testEnv().workflowBundlePath } }, histories);
  const failures: string[] = [];
  for await (const result of results) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
});

it('fails when the history and the code disagree (the replay test can fail)', async () => {
  const json = JSON.parse(readFileSync(path.join(dir, 'conversation-replies-and-idle-close.json'), 'utf8')) as {
    events: Record<string, any>[];
  };
  const scheduled = json.events.find((e) => e.activityTaskScheduledEventAttributes);
  expect(scheduled).toBeDefined();
  // As if an older version of the workflow had called a different activity at this point.
  scheduled!.activityTaskScheduledEventAttributes.activityType.name = 'sendTemplate';
  await expect(
    Worker.runReplayHistory(
      { workflowBundle: { codePath: testEnv().workflowBundlePath } },
      historyFromJSON(json),
      'replay-altered',
    ),
  ).rejects.toBeInstanceOf(DeterminismViolationError);
});
