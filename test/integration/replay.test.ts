import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import path from 'node:path';
import { testEnv } from '../helpers/env';
import { historiesDir, listHistories, readHistoryJson, replayable, workflowTypeOf } from '../helpers/histories';

/**
 * Replays every recorded history of every released version (`test/histories/<workflow>/<version>/*.json`, recorded
 * by `npm run record-histories -- --version vN`) against today's workflow code. A change that would break the
 * conversations and bookings still running on an earlier release fails here, before it ships.
 */
const histories = listHistories();
const versions = [...new Set(histories.map((h) => `${h.workflow}/${h.version}`))];

beforeAll(() => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this worker process
  }
});

it('has the released version-1 histories of both long-running workflows', () => {
  expect(versions).toEqual(expect.arrayContaining(['booking/v1', 'conversation/v1']));
  expect(histories.filter((h) => h.version === 'v1').length).toBeGreaterThanOrEqual(9);
});

it('keeps each history under the folder of the workflow it records', () => {
  const misplaced = histories.filter((h) => workflowTypeOf(readHistoryJson(h.file)) !== h.workflow);
  expect(misplaced.map((h) => path.relative(historiesDir, h.file))).toEqual([]);
});

describe.each(versions)('%s', (version) => {
  it('replays every history without a determinism error', async () => {
    const mine = histories.filter((h) => `${h.workflow}/${h.version}` === version);
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: testEnv().workflowBundlePath } },
      mine.map(replayable),
    );
    const failures: string[] = [];
    for await (const result of results) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
  });
});

it('fails when the history and the code disagree (the replay test can fail)', async () => {
  const json = readHistoryJson(path.join(historiesDir, 'conversation', 'v1', 'replies-and-idle-close.json'));
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
