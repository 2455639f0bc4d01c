import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { PayloadKeyRing, payloadDataConverter } from '../../lib/codec';
import type { ConversationInput } from '../../lib/domain/conversation';
import path from 'node:path';
import { testEnv } from '../helpers/env';
import {
  historiesDir,
  historyPayloadKeys,
  listHistories,
  readHistoryJson,
  replayable,
  workflowTypeOf,
} from '../helpers/histories';
import { createLogContexts } from '../../lib/log-context';
import { disabledTracing } from '../../lib/tracing';

/**
 * Replays every recorded history of every released version (`test/histories/<workflow>/<version>/*.json`, recorded
 * by `npm run record-histories -- --version vN`) against today's workflow code. A change that would break the
 * conversations and bookings still running on an earlier release fails here, before it ships.
 */
const histories = listHistories();
const versions = [...new Set(histories.map((h) => `${h.workflow}/${h.version}`))];
/**
 * Replay decodes as the worker does: histories from v2 on are encrypted with the recorder's key; v1 was recorded
 * before the codec, and its payloads pass through it unchanged.
 */
const keys = PayloadKeyRing.parse(historyPayloadKeys) as PayloadKeyRing;
const replayOptions = {
  workflowBundle: { codePath: testEnv().workflowBundlePath },
  dataConverter: payloadDataConverter(keys),
  // The workflows' log-context and span sinks, as the worker registers them.
  sinks: { ...createLogContexts().sinks, ...disabledTracing().workflowSinks },
};

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

it("has this release's version-2 histories: a confirmed booking starts its stay messages, which replay too", () => {
  expect(versions).toEqual(expect.arrayContaining(['booking/v2', 'conversation/v2', 'stayMessages/v2']));
  const success = readHistoryJson(path.join(historiesDir, 'booking', 'v2', 'success.json'));
  const child = success.events.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  expect(child?.startChildWorkflowExecutionInitiatedEventAttributes.workflowType.name).toBe('stayMessages');
});

it('keeps each history under the folder of the workflow it records', () => {
  const misplaced = histories.filter((h) => workflowTypeOf(readHistoryJson(h.file)) !== h.workflow);
  expect(misplaced.map((h) => path.relative(historiesDir, h.file))).toEqual([]);
});

describe.each(versions)('%s', (version) => {
  it('replays every history without a determinism error', async () => {
    const mine = histories.filter((h) => `${h.workflow}/${h.version}` === version);
    const results = Worker.runReplayHistories(replayOptions, mine.map(replayable));
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
  await expect(Worker.runReplayHistory(replayOptions, historyFromJSON(json), 'replay-altered')).rejects.toBeInstanceOf(
    DeterminismViolationError,
  );
});

it('replays a version-1 conversation that crossed the history bound: the change is behind its patch', async () => {
  // Version 1 read no `historyBound` from its input and continued as new only when the server suggested it. This is
  // a version-1 recording with a small bound added to its input: what version 1 would have recorded for that input,
  // since it ignored the field. Today's code, past the bound, continues as new only where the history carries the
  // `continue-as-new-history-bound` marker; without the patch it would continue where version 1 waited for the
  // next message, and this replay would fail.
  const json = readHistoryJson(path.join(historiesDir, 'conversation', 'v1', 'staff-request.json'));
  const payload = json.events[0]!.workflowExecutionStartedEventAttributes.input.payloads[0];
  const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as ConversationInput;
  expect(input.historyBound).toBeUndefined();
  const withBound: ConversationInput = { ...input, historyBound: { events: 10, bytes: 1024 } };
  payload.data = Buffer.from(JSON.stringify(withBound)).toString('base64');
  // The bound is crossed while the conversation answers: the reply's workflow task starts past 10 events.
  const replied = json.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'sendMessage');
  expect(Number(replied!.eventId)).toBeGreaterThan(10);
  await Worker.runReplayHistory(replayOptions, historyFromJSON(json), 'replay-v1-past-the-bound');
});
