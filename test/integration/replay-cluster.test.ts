import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Activities } from '../../activities';
import { waitFor } from '../../dev/process';
import {
  conversationWorkflowType,
  inboundMessageSignal,
  type ConversationInput,
  type ConversationWorkflow,
} from '../../lib/domain/conversation';
import { type InboundMessage } from '../../lib/domain/messages';
import { formatReport, replayCluster } from '../../scripts/replay-cluster';
import { booking } from '../../workflows/booking';
import { testEnv } from '../helpers/env';
import { sagaInput, withWorker, workflowEnvironment } from '../workflows/harness';
import { conversationIdFor } from '../helpers/webhooks';

/**
 * `npm run replay:cluster`, the deploy gate, against this run's dev server: the conversations and bookings it just
 * ran replay against today's code; against a copy of the code with two commands swapped, they would fail, and the
 * gate says which and why, and exits 1.
 */
const root = path.resolve(__dirname, '..', '..');
let env: TestWorkflowEnvironment;
let taskQueue: string;
const waId = `1555${Math.floor(1e6 + Math.random() * 9e6)}`;
const since = new Date(Date.now() - 60 * 60 * 1000);

const activities = {
  resolveTenant() {
    const tenant = {
      id: 'hotel-gate',
      name: 'Hotel Gate',
      status: 'active',
      locale: 'en',
      timezone: 'UTC',
      businessHours: {},
      info: {},
      whatsappTokenRef: null,
    } as const;
    return Promise.resolve({ kind: 'resolved', tenant });
  },
  understand() {
    return Promise.resolve({ intent: 'greeting', language: 'en' });
  },
  sendMessage() {
    return Promise.resolve({ messageId: `wamid.out.${randomUUID()}` });
  },
  acquireHold() {
    return Promise.resolve({ kind: 'conflict' });
  },
  recordInteractions() {
    return Promise.resolve();
  },
} satisfies Partial<Activities>;

beforeAll(async () => {
  env = await workflowEnvironment();
  // This run's own traffic: a conversation that answered and is still open, one that closed, and a booking.
  taskQueue = await withWorker(env, activities, async (queue) => {
    const input = (id: string, idleTimeoutSeconds: number): ConversationInput => ({
      phoneNumberId: '100200300',
      waId: id,
      idleTimeoutSeconds,
      seenIdsMax: 100,
      // Over by the idle close: its dormant run completes at once.
      dedupWindowSeconds: 1,
    });
    const write = async (id: string, idle: number) => {
      const message: InboundMessage = { id: `wamid.${randomUUID()}`, from: id, timestamp: 1, type: 'text', text: 'hi' };
      await env.client.workflow.signalWithStart<ConversationWorkflow, [InboundMessage]>(conversationWorkflowType, {
        workflowId: conversationIdFor('100200300', id),
        taskQueue: queue,
        args: [input(id, idle)],
        signal: inboundMessageSignal,
        signalArgs: [message],
      });
    };
    await write(waId, 600);
    await write(`${waId}9`, 1);
    const saga = sagaInput({ tenantId: 'hotel-gate', waId, roomIds: ['11'] });
    await env.client.workflow.execute(booking, {
      workflowId: `booking-${randomUUID()}`,
      taskQueue: queue,
      args: [saga],
    });
    await env.client.workflow.getHandle(conversationIdFor('100200300', `${waId}9`)).result();
    await waitFor('the open conversation answered', async () => {
      const { events } = await env.client.workflow.getHandle(conversationIdFor('100200300', waId)).fetchHistory();
      return (events ?? []).some((e) => e.timerStartedEventAttributes);
    });
    return queue;
  });
  await waitFor('the four runs visible', async () => {
    const { count } = await env.client.workflow.count(`TaskQueue = '${taskQueue}'`);
    return count === 4; // the closed conversation's two runs (it continued as new into its dormant run)
  });
});

afterAll(async () => {
  await env?.client.workflow.getHandle(conversationIdFor('100200300', waId)).terminate('test over');
  await env?.teardown();
});

it('replays the cluster’s recent conversations and bookings against today’s code: none would fail', async () => {
  const report = await replayCluster({
    client: env.client,
    since,
    taskQueue,
    workflowBundle: { codePath: testEnv().workflowBundlePath },
  });
  expect(report.query).toContain(
    "WorkflowType IN ('booking', 'conversation', 'guestMediaErasure', 'mediaCleanup', 'stayMessages')",
  );
  expect(report.failures).toEqual([]);
  expect(report.replayed).toBe(4);
  expect(formatReport(report, since).at(-1)).toMatch(/^replayed 4 histories .*: none would fail$/);
});

it('says which would fail, and why, against a change that swaps two commands, and exits 1', async () => {
  // A copy of the workflow code in which the conversation resolves its tenant before it upserts its status.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hm-broken-workflows-'));
  try {
    cpSync(path.join(root, 'workflows'), path.join(dir, 'workflows'), { recursive: true });
    for (const shared of ['lib', 'activities', 'node_modules'])
      symlinkSync(path.join(root, shared), path.join(dir, shared));
    const file = path.join(dir, 'workflows', 'conversation', 'index.ts');
    const code = readFileSync(file, 'utf8');
    const upsert = '  showStatus(memory);\n';
    const resolve = '  await resolveConversationTenant(memory);\n';
    const swapped = code
      .replace(`${upsert}\n  // Once per run`, '\n  // Once per run')
      .replace(resolve, `${resolve}${upsert}`);
    expect(swapped).not.toBe(code);
    writeFileSync(file, swapped);

    const run = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/replay-cluster.ts',
        '--since',
        '1h',
        '--task-queue',
        taskQueue,
        '--workflows',
        dir + '/workflows',
      ],
      { cwd: root, env: { ...process.env, TEMPORAL_ADDRESS: testEnv().temporalAddress }, timeout: 120_000 },
    ).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
    );
    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n');
    // Both conversations would fail at the swapped commands; the booking saga, unchanged, replays.
    expect(lines.filter((l) => l.startsWith('FAIL conversation '))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('FAIL booking '))).toHaveLength(0);
    expect(lines[0]).toMatch(/Nondeterminism/);
    expect(lines.at(-1)).toMatch(/^replayed 4 histories .*: 2 would fail$/);
    // The guest's number is in the workflow id: masked.
    expect(run.stdout).not.toContain(waId);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
