import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities';
import type { BookingInput } from '../../lib/domain/booking';
import { waitFor } from '../../dev/process';
import { testEnv } from '../helpers/env';
import { createLogContexts } from '../../lib/log-context';
import { disabledTracing } from '../../lib/tracing';

/**
 * Workflow tests: the real workflow bundle on the run's real Temporal dev server, with stub activities typed by the
 * activity contract (`satisfies Partial<Activities>` at each stub), so a stub that drifts from it fails to compile.
 */
export async function workflowEnvironment(): Promise<TestWorkflowEnvironment> {
  try {
    // The workflows' own warnings (a failed step, a compensation) are expected here: only errors are shown.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // already installed in this jest worker
  }
  return TestWorkflowEnvironment.createFromExistingServer({ address: testEnv().temporalAddress });
}

/** One environment for the test file: connected before its tests, torn down after them. */
export function useWorkflowEnvironment(): () => TestWorkflowEnvironment {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await workflowEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return () => {
    if (!env) throw new Error('The workflow environment is not connected yet');
    return env;
  };
}

/** A booking saga's input for two nights in a double room (rooms 11 and 12), in English. */
export function sagaInput(overrides: Partial<BookingInput> = {}): BookingInput {
  return {
    tenantId: 'hotel-test',
    phoneNumberId: '100200300',
    waId: '15550001111',
    tokenRef: null,
    replyTo: 'wamid.ask',
    language: 'en',
    roomTypeId: '1',
    roomTypeName: 'Double room',
    roomIds: ['11', '12'],
    checkIn: '2031-03-01',
    checkOut: '2031-03-03',
    adults: 2,
    holdTtlSeconds: 900,
    holdMaxExtensions: 2,
    pmsTimeoutSeconds: 60,
    ...overrides,
  };
}

/** How many sends the conversations told their worker were reconciled (`whatsapp_replies_total{result="reconciled"}`). */
export const reconciledSends = { count: 0 };

/** Runs `fn` while a worker with these stub activities serves a task queue of its own. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  activities: Partial<Activities>,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `wf-test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: testEnv().workflowBundlePath },
    // Read receipts are best effort and beside the point of most workflow tests: a stub unless the test brings one.
    activities: { markRead: () => Promise.resolve(), ...activities },
    // The workflows' sinks, as the worker registers them (log context, spans); reconciled sends counted in
    // `reconciledSends`.
    sinks: {
      ...createLogContexts().sinks,
      ...disabledTracing().workflowSinks,
      replyMetrics: { reconciled: { fn: () => void reconciledSends.count++, callDuringReplay: false } },
    },
    // A test that fails with a stub still waiting must not hang the file: in-flight activities are cancelled.
    shutdownGraceTime: '1 second',
    shutdownForceTime: '5 seconds',
  });
  return worker.runUntil(() => fn(taskQueue));
}

/**
 * A point where a stub activity waits until the test lets it go: `reached` resolves when the activity gets there,
 * `release()` lets it return.
 */
export class Gate {
  private arrive!: () => void;
  private leave!: () => void;
  readonly reached = new Promise<void>((resolve) => (this.arrive = resolve));
  private readonly released = new Promise<void>((resolve) => (this.leave = resolve));

  /** Called by the stub: marks the gate reached and waits for the release. */
  async pass(): Promise<void> {
    this.arrive();
    await this.released;
  }

  release(): void {
    this.leave();
  }
}

/** What happened in a run, in order: each event named by its attributes (`activityTaskScheduled`, ...). */
export async function eventKinds(handle: WorkflowHandle): Promise<string[]> {
  const { events } = await handle.fetchHistory();
  return (events ?? []).map((e) => {
    const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k as keyof typeof e]);
    return key ? key.replace(/EventAttributes$/, '') : 'unknown';
  });
}

/** Waits until the workflow has taken a signal in: a workflow task completed after the signal's event. */
export async function signalProcessed(handle: WorkflowHandle, signalName: string): Promise<void> {
  await waitFor(`${signalName} processed`, async () => {
    const { events } = await handle.fetchHistory();
    const at = (events ?? []).findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === signalName);
    return at >= 0 && (events ?? []).slice(at).some((e) => e.workflowTaskCompletedEventAttributes);
  });
}

/** Patch ids recorded in a run's history by `patched()` (core's `core_patch` markers). */
export async function patchMarkers(handle: WorkflowHandle): Promise<string[]> {
  const { events } = await handle.fetchHistory();
  return (events ?? []).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    if (!data) return [];
    const json = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data);
    return [(JSON.parse(json.toString('utf8')) as { id: string }).id];
  });
}
