import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { ReplayError, Worker } from '@temporalio/worker';
import { createApp } from '../../api/app';
import { waitFor } from '../../dev/process';
import {
  EncryptionCodec,
  generatePayloadKey,
  keyIdMetadataKey,
  PayloadKeyRing,
  payloadDataConverter,
} from '../../lib/codec';
import type { Config } from '../../lib/config';
import { stateQuery } from '../../lib/domain/conversation';
import { captureLogger, startWorker, temporalClient, testConfig, testEnv, type RunningWorker } from '../helpers/env';
import { startStack, type Stack } from '../helpers/stack';
import { conversationIdFor, postSigned, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';

/**
 * Key rotation: a conversation written under key 1 keeps working after key 2 is added and becomes the one that
 * encrypts. Its history replays and decodes with the new key ring, the conversation answers the next message, and a
 * process that has dropped key 1 refuses to read what key 1 wrote, saying so.
 */

const key1 = generatePayloadKey('key-1');
const key2 = generatePayloadKey('key-2');

let stack: Stack;
let rotatedWorker: RunningWorker | undefined;
let rotatedClient: Client | undefined;

beforeAll(async () => {
  stack = await startStack({ config: { PAYLOAD_KEYS: key1 } });
});

afterAll(async () => {
  await rotatedWorker?.stop();
  await rotatedClient?.connection.close();
  await stack?.stop();
});

/** Every payload of a history, wherever it sits (inputs, signals, activity inputs and results, summaries). */
function payloadsOf(value: unknown): Payload[] {
  if (value === null || typeof value !== 'object') return [];
  const candidate = value as Payload;
  if (candidate.metadata && (candidate.data === undefined || candidate.data instanceof Uint8Array)) return [candidate];
  return Object.values(value).flatMap(payloadsOf);
}

const keyIdOf = (p: Payload) => Buffer.from(p.metadata![keyIdMetadataKey] ?? new Uint8Array()).toString('utf8');
const encrypted = (p: Payload) =>
  Buffer.from(p.metadata!.encoding ?? new Uint8Array()).toString() === 'binary/encrypted';

it('a history written with key 1 replays and decodes after key 2 is added, and the conversation goes on under key 2', async () => {
  const tenant = await stack.tenant({ locale: 'en' });
  const from = uniqueWaId();
  const post = (app: Parameters<typeof postSigned>[0], body: string) =>
    postSigned(app, textWebhook({ phoneNumberId: tenant.phoneNumberId, from, body, id: uniqueMessageId() }));
  const repliesTo = () => stack.whatsapp.sent.filter((m) => m.to === from);

  // Under key 1 only.
  await post(stack.app, 'Hello, is the pool open in winter?');
  await waitFor('the first reply', () => repliesTo().length === 1);
  const workflowId = conversationIdFor(tenant.phoneNumberId, from);
  // Stopped first: what the key-1 worker still finishes after the reply (its last activities) is in the history read.
  await stack.worker.stop();
  const written = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  const before = payloadsOf(written.events).filter(encrypted);
  expect(before.length).toBeGreaterThan(5);
  expect(new Set(before.map(keyIdOf))).toEqual(new Set(['key-1']));

  // Key 2 added: every process gets `key-1,key-2`, and the last one listed encrypts.
  const rotated: Config = testConfig({
    WHATSAPP_GRAPH_BASE_URL: stack.whatsapp.url,
    TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
    PAYLOAD_KEYS: `${key1},${key2}`,
  });
  expect(rotated.payloadKeys.currentId).toBe('key-2');

  // The history key 1 wrote replays on today's code with the new ring, and every payload in it decodes.
  await Worker.runReplayHistory(
    {
      workflowBundle: { codePath: testEnv().workflowBundlePath },
      dataConverter: payloadDataConverter(rotated.payloadKeys),
    },
    written,
    'replay-after-rotation',
  );
  const decoded = await new EncryptionCodec(rotated.payloadKeys).decode(before);
  const texts = decoded.map((p) => JSON.stringify(defaultPayloadConverter.fromPayload(p)));
  expect(texts.some((t) => t.includes('Hello, is the pool open in winter?'))).toBe(true);

  // The same conversation goes on: a worker and an API with the new ring answer the next message.
  rotatedWorker = await startWorker(rotated);
  rotatedClient = await temporalClient(rotated);
  const rotatedApp = createApp({
    temporal: rotatedClient,
    config: rotated,
    log: captureLogger().log,
    db: rotatedWorker.db,
  });
  await post(rotatedApp, 'And is breakfast included?');
  await waitFor('the second reply', () => repliesTo().length === 2);
  const state = await rotatedClient.workflow.getHandle(workflowId).query(stateQuery);
  expect(state.lastMessages.filter((m) => m.direction === 'in').map((m) => m.text)).toEqual([
    'Hello, is the pool open in winter?',
    'And is breakfast included?',
  ]);
  const after = await rotatedClient.workflow.getHandle(workflowId).fetchHistory();
  const added = payloadsOf(after.events!.slice(written.events!.length)).filter(encrypted);
  expect(added.length).toBeGreaterThan(0);
  expect(new Set(added.map(keyIdOf))).toEqual(new Set(['key-2']));

  // A process that dropped key 1 too early cannot read key 1's payloads, and says which key it lacks.
  const onlyKey2 = PayloadKeyRing.parse(key2) as PayloadKeyRing;
  await expect(new EncryptionCodec(onlyKey2).decode(before)).rejects.toThrow(
    'An encrypted payload needs payload key "key-1", which is not in PAYLOAD_KEYS here (it has key-2)',
  );
  // Nor can such a worker replay the conversation: its workflow task fails (the reason, in the worker's log, names
  // key-1; the failure itself is encrypted like every other).
  await expect(
    Worker.runReplayHistory(
      { workflowBundle: { codePath: testEnv().workflowBundlePath }, dataConverter: payloadDataConverter(onlyKey2) },
      written,
      'replay-without-key-1',
    ),
  ).rejects.toBeInstanceOf(ReplayError);
});
