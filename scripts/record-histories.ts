/**
 * Records the workflow histories that the replay test replays: `npm run record-histories -- --version v2`.
 * Runs each scenario for real (its own Temporal dev server, the WhatsApp and PMS stand-ins, the real worker and
 * API) and writes `test/histories/<workflow>/<version>/<scenario>.json`. A version is recorded once, by the
 * released code, and never overwritten: the recorder refuses a file that exists. `--only <workflow>/<scenario>`
 * (or `<workflow>-<scenario>`, repeatable) records some scenarios only.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../api/app';
import { signBody } from '../api/signature';
import { waitFor } from '../dev/process';
import { mediaSha256, startWhatsAppStandin, type WhatsAppStandin } from '../dev/whatsapp-standin';
import { startPmsStandin, type PmsStandin } from '../dev/pms-standin';
import { startPostgres } from '../dev/postgres';
import { startRedis } from '../dev/redis';
import { loadConfig, type Config } from '../lib/config';
import { migrate } from '../lib/db/migrate';
import { createPool } from '../lib/db/pool';
import { demoPmsKeyVariable, demoTemplateNames, demoTenantId, seedDemo } from '../lib/db/seed-demo';
import { createSecretResolver } from '../lib/secrets';
import { createLogger } from '../lib/log';
import { retryAbortedUpdate } from '../lib/temporal-updates';
import { failureConverterPath, payloadDataConverter } from '../lib/codec';
import { conversationWorkflowId } from '../lib/domain/messages';
import { createGuestRefs } from '../lib/guest-refs';
import { startTemporalDevServer, temporalBinary } from '../temporal/dev-server';
import { bookingStatusQuery } from '../lib/domain/booking';
import { closeUpdate, handoffUpdate, operatorReplyUpdate, resumeUpdate, stateQuery } from '../lib/domain/conversation';
import { createConversationWorker } from '../workers/worker';
import {
  historiesDir,
  historyPayloadKeys,
  readHistoryJson,
  versionPattern,
  workflowTypeOf,
} from '../test/helpers/histories';
import { createTestTenant } from '../test/helpers/tenants';
import { interactiveReplyWebhook, loadFixture, textWebhook, uniqueMessageId } from '../test/helpers/webhooks';
import { notifyTenantsChanged } from '../lib/db/tenants';
import { localDateTime, stayMessagesWorkflowId, stayTimes } from '../lib/domain/stay-messages';
import type { Pool } from 'pg';

const secrets = {
  WHATSAPP_APP_SECRET: 'record-app-secret-0123',
  WHATSAPP_VERIFY_TOKEN: 'record-verify-token',
  WHATSAPP_ACCESS_TOKEN: 'record-access-token-0123',
  GUEST_REF_KEY: 'record-guest-reference-key-0123456789abcdef',
  // Histories are recorded encrypted, as a deployment writes them; the replay test has this key.
  PAYLOAD_KEYS: historyPayloadKeys,
};
const phoneNumberId = '106540352242922';
/** The operator of the scenarios' updates, as an admin token id. */
const recordOperator = '0123456789abcdef';
const guestRefs = createGuestRefs(secrets.GUEST_REF_KEY);
/** The conversation of a guest with the demo hotel's number, as the API names it. */
const conversationOf = (from: string) => conversationWorkflowId(phoneNumberId, guestRefs.of(from));

interface Ctx {
  temporal: Client;
  standin: WhatsAppStandin;
  pms: PmsStandin;
  db: Pool;
  post: (payload: unknown) => Promise<void>;
}

type Fields = Record<string, unknown>;
/** The parts of Meta's webhook examples that the scenarios rewrite. */
interface ChangeValue {
  metadata: { phone_number_id: string };
  contacts?: { wa_id: string }[];
  statuses: Fields[];
  messages: [Fields & Record<string, Fields>];
}

/** A copy of Meta's example and its first change's value, to rewrite for the demo hotel's number. */
function fixture(name: string): { payload: Fields; value: ChangeValue } {
  const payload = loadFixture(name);
  const value = (payload as unknown as { entry: [{ changes: [{ value: ChangeValue }] }] }).entry[0].changes[0].value;
  value.metadata.phone_number_id = phoneNumberId;
  return { payload, value };
}

/** A scenario returns the run whose history is recorded (the latest run when `runId` is omitted). */
type Scenario = (ctx: Ctx) => Promise<{ handle: WorkflowHandle; runId?: string }>;

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/**
 * The run of a scenario's conversation whose history has an event `wanted` finds: the recorder's dev server suggests
 * continue-as-new after 30 events, so a longer scenario spans runs. Waits for the workflow to close first.
 */
async function runWhere(
  temporal: Client,
  handle: WorkflowHandle,
  wanted: (event: HistoryEvent) => boolean,
): Promise<string> {
  await handle.result();
  let runId: string | undefined;
  await waitFor('the run in visibility', async () => {
    for await (const run of temporal.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
      const { events } = await temporal.workflow.getHandle(handle.workflowId, run.runId).fetchHistory();
      if ((events ?? []).some(wanted)) runId = run.runId;
    }
    return runId !== undefined;
  });
  return runId!;
}

/**
 * The run a scenario without a `runId` records: the last run, or, when that is the dormant run a closed conversation
 * continued into (issue 11), the run that closed. Waits for the workflow to complete first.
 */
async function closedRun(temporal: Client, handle: WorkflowHandle): Promise<string> {
  await handle.result();
  const last = (await handle.describe()).runId;
  const { events } = await temporal.workflow.getHandle(handle.workflowId, last).fetchHistory();
  const started = events?.[0]?.workflowExecutionStartedEventAttributes;
  const [input] = await decodeArrayFromPayloads(temporal.options.loadedDataConverter, started?.input?.payloads);
  const dormant = (input as { dormant?: unknown } | undefined)?.dormant !== undefined;
  return dormant && started?.continuedExecutionRunId ? started.continuedExecutionRunId : last;
}

const repliesTo = (standin: WhatsAppStandin, waId: string) => standin.sent.filter((m) => m.to === waId).length;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The stay `book` asks for: a month ahead, two nights. */
function bookedStay(): { checkIn: string; checkOut: string } {
  return {
    checkIn: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
    checkOut: new Date(Date.now() + 32 * 86_400_000).toISOString().slice(0, 10),
  };
}

/**
 * Asks for rooms a month ahead and picks the first; returns the booking saga's handle. The demo hotel has the
 * pre-arrival and post-stay templates, so a confirmed booking starts its `stayMessages` workflow.
 */
async function book({ temporal, standin, post }: Ctx, from: string): Promise<{ handle: WorkflowHandle }> {
  const { checkIn, checkOut } = bookedStay();
  await post(
    textWebhook({
      from,
      id: uniqueMessageId(),
      body: `¿Tienen habitación del ${checkIn} al ${checkOut} para 2 adultos?`,
      timestamp: nowSeconds(),
    }),
  );
  await waitFor('the offer', () => repliesTo(standin, from) === 1);
  await post(textWebhook({ from, id: uniqueMessageId(), body: '1', timestamp: nowSeconds() }));
  const conversation = temporal.workflow.getHandle(conversationOf(from));
  await waitFor('the booking', async () => (await conversation.query(stateQuery)).booking !== undefined);
  const reference = (await conversation.query(stateQuery)).booking!.reference;
  return { handle: temporal.workflow.getHandle(reference) };
}

const scenarios: Record<string, Scenario> = {
  /** Spanish and English messages answered, a duplicate dropped, a read status, then the idle close. */
  async 'conversation/replies-and-idle-close'({ temporal, standin, post }) {
    const from = '15550000001';
    const first = textWebhook({ from, id: uniqueMessageId(), body: 'Hola, ¿tienen habitación?' });
    await post(first);
    await waitFor('first reply', () => repliesTo(standin, from) === 1);
    await post(first);
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hello, thank you' }));
    await waitFor('second reply', () => repliesTo(standin, from) === 2);
    const { payload: status, value } = fixture('status_read_group');
    value.statuses = [
      {
        ...value.statuses[0],
        id: standin.sent.at(-1)!.id,
        recipient_id: from,
        status: 'read',
        timestamp: '1750263773',
      },
    ];
    await post(status);
    const handle = temporal.workflow.getHandle(conversationOf(from));
    await waitFor('the status', async () =>
      (await handle.query(stateQuery)).lastMessages.some((m) => m.status === 'read'),
    );
    // A run that answered (the recorder's server suggests continue-as-new early, so the closing run may only wait).
    const runId = await runWhere(
      temporal,
      handle,
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendMessage',
    );
    return { handle, runId };
  },
  /** WhatsApp fails twice (retried), then refuses a recipient for good (recorded, not retried). */
  async 'conversation/whatsapp-failures'({ temporal, standin, post }) {
    const from = '15550000002';
    standin.inject({ kind: 'error', status: 503, code: 131016, message: 'Service unavailable' }, 2);
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hello' }));
    await waitFor('reply after retries', () => repliesTo(standin, from) === 1, { timeoutMs: 20_000 });
    standin.undeliverable.add(from);
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hello again' }));
    const handle = temporal.workflow.getHandle(conversationOf(from));
    await waitFor('the failure', async () =>
      (await handle.query(stateQuery)).lastMessages.some((m) => m.status === 'failed'),
    );
    // The run in which the send failed for good.
    const runId = await runWhere(temporal, handle, (e) => e.activityTaskFailedEventAttributes !== undefined);
    return { handle, runId };
  },
  /** A guest registered to another hotel writes to the demo hotel's number: refused, no reply. */
  async 'conversation/tenant-isolation-refused'({ temporal, post }) {
    const from = '15550000004';
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hola' }));
    const handle = temporal.workflow.getHandle(conversationOf(from));
    await waitFor('the refusal', async () => (await handle.query(stateQuery)).tenant.kind === 'refused');
    return { handle };
  },
  /** A guest asks for a person; the demo hotel answers per its business hours. */
  async 'conversation/staff-request'({ temporal, standin, post }) {
    const from = '15550000005';
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Quiero hablar con una persona' }));
    await waitFor('the reply', () => repliesTo(standin, from) === 1);
    return { handle: temporal.workflow.getHandle(conversationOf(from)) };
  },
  /** A voice note and a photo: downloaded into the store; the voice note, not transcribed, goes to staff. */
  async 'conversation/media'({ temporal, standin, post }) {
    const from = '15550000009';
    const voice = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(4_000, 7)]);
    const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(4_000, 9)]);
    standin.addMedia('record-voice', { body: voice, mimeType: 'audio/ogg; codecs=opus' });
    standin.addMedia('record-photo', { body: photo, mimeType: 'image/jpeg' });
    for (const [type, id, body, mime] of [
      ['audio', 'record-voice', voice, 'audio/ogg; codecs=opus'],
      ['image', 'record-photo', photo, 'image/jpeg'],
    ] as const) {
      const { payload, value } = fixture(type);
      for (const c of value.contacts ?? []) c.wa_id = from;
      Object.assign(value.messages[0], { from, id: uniqueMessageId() });
      value.messages[0][type] = {
        ...value.messages[0][type],
        id,
        sha256: await mediaSha256(body),
        mime_type: mime,
      };
      await post(payload);
    }
    await waitFor('both replies', () => repliesTo(standin, from) === 2);
    return { handle: temporal.workflow.getHandle(conversationOf(from)) };
  },
  /** A guest asks for rooms and books the first: the booking saga's history (hold, book, confirm, release). */
  async 'booking/success'(ctx) {
    const { handle } = await book(ctx, '15550000006');
    await waitFor('the confirmation', () => repliesTo(ctx.standin, '15550000006') === 2);
    return { handle };
  },
  /** The PMS refuses to create the booking until the saga gives up: compensation releases the hold. */
  async 'booking/pms-failure-compensated'(ctx) {
    ctx.pms.inject({ kind: 'error', status: 503, match: { method: 'POST', resource: 'bookings' } }, 1000);
    const { handle } = await book(ctx, '15550000007');
    await waitFor('the failure told', () => repliesTo(ctx.standin, '15550000007') === 2, { timeoutMs: 30_000 });
    ctx.pms.reset();
    return { handle };
  },
  /** The guest cancels while the PMS is failing: the saga undoes the hold and tells them. */
  async 'booking/guest-cancel'(ctx) {
    ctx.pms.inject({ kind: 'error', status: 503, match: { method: 'POST', resource: 'bookings' } }, 1000);
    const from = '15550000008';
    const { handle } = await book(ctx, from);
    await waitFor('the PMS step', async () => (await handle.query(bookingStatusQuery)).step === 'booking');
    await ctx.post(textWebhook({ from, id: uniqueMessageId(), body: 'Cancela mi reserva', timestamp: nowSeconds() }));
    await waitFor('the cancellation told', () => repliesTo(ctx.standin, from) === 2, { timeoutMs: 30_000 });
    ctx.pms.reset();
    return { handle };
  },
  /**
   * A guest asks for a person: the conversation hands off, keeps the next message for staff without answering, an
   * operator resumes it, and the bot answers again; then the idle close.
   */
  async 'conversation/handoff'({ temporal, standin, post }) {
    const from = '15550000010';
    const handle = temporal.workflow.getHandle(conversationOf(from));
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Quiero hablar con una persona' }));
    await waitFor('the staff reply', () => repliesTo(standin, from) === 1);
    await waitFor('the handoff', async () => (await handle.query(stateQuery)).status === 'handoff');
    await post(textWebhook({ from, id: uniqueMessageId(), body: '¿Hola?', timestamp: nowSeconds() }));
    await waitFor('the message kept', async () => (await handle.query(stateQuery)).lastMessages.length === 3);
    await handle.executeUpdate(resumeUpdate, { args: [{ operator: { tokenId: recordOperator } }] });
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Gracias', timestamp: nowSeconds() }));
    await waitFor('the bot answers again', () => repliesTo(standin, from) === 2);
    // The run in which the guest's request handed the conversation off (its patch marker).
    const runId = await runWhere(temporal, handle, (e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    return { handle, runId };
  },
  /** Staff take a conversation over, reply to the guest, keep the guest's answer, and close the conversation. */
  async 'conversation/operator-reply'({ temporal, standin, post }) {
    const from = '15550000011';
    const operator = { tokenId: recordOperator };
    const handle = temporal.workflow.getHandle(conversationOf(from));
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hola' }));
    await waitFor('the greeting', () => repliesTo(standin, from) === 1);
    await handle.executeUpdate(handoffUpdate, { args: [{ operator }] });
    await handle.executeUpdate(operatorReplyUpdate, { args: [{ operator, text: 'Hola, soy Marta, de recepción.' }] });
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Gracias, Marta', timestamp: nowSeconds() }));
    await waitFor('the answer kept', async () => (await handle.query(stateQuery)).lastMessages.length === 4);
    await retryAbortedUpdate(() => handle.executeUpdate(closeUpdate, { args: [{ operator }] }));
    // The run that sent the staff reply.
    const runId = await runWhere(
      temporal,
      handle,
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'operatorReply',
    );
    return { handle, runId };
  },
  /**
   * A conversation closed by the idle timeout continues into its dormant run, which drops a redelivery of the first
   * message and is woken by a new one (continue-as-new into an active run that answers it); the dormant run's history.
   */
  async 'conversation/dormant-run'({ temporal, standin, post }) {
    const from = '15550000012';
    const handle = temporal.workflow.getHandle(conversationOf(from));
    const first = textWebhook({ from, id: uniqueMessageId(), body: 'Hola' });
    await post(first);
    await waitFor('the greeting', () => repliesTo(standin, from) === 1);
    const activeRun = (await handle.describe()).runId;
    await waitFor('the dormant run', async () => (await handle.describe()).runId !== activeRun, { timeoutMs: 20_000 });
    const dormantRun = (await handle.describe()).runId;
    await post(first);
    await waitFor('the redelivery dropped', async () => (await handle.query(stateQuery)).duplicatesDropped === 1);
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hola otra vez', timestamp: nowSeconds() }));
    await waitFor('the new message answered', () => repliesTo(standin, from) === 2);
    return { handle, runId: dormantRun };
  },
  /**
   * A reply whose send outcome is unknown (WhatsApp recorded it, then the connection was cut): the status webhook
   * carrying its idempotency key arrives, and the reply counts as sent without a second send.
   */
  async 'conversation/reconciled-send'({ temporal, standin, post }) {
    const from = '15550000013';
    const handle = temporal.workflow.getHandle(conversationOf(from));
    standin.inject({ kind: 'acceptThenDrop' });
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hola' }));
    await waitFor('the reply recorded by the stand-in', () => repliesTo(standin, from) === 1);
    const sent = standin.sent.at(-1)!;
    const { payload: status, value } = fixture('status_sent');
    value.statuses = [
      {
        ...value.statuses[0],
        id: sent.id,
        recipient_id: from,
        status: 'sent',
        timestamp: String(nowSeconds()),
        biz_opaque_callback_data: sent.key,
      },
    ];
    await post(status);
    await waitFor('the reply reconciled', async () =>
      (await handle.query(stateQuery)).lastMessages.some((m) => m.id === sent.id),
    );
    if (repliesTo(standin, from) !== 1) throw new Error('the reconciled reply was sent again');
    const runId = await runWhere(temporal, handle, (e) => e.activityTaskFailedEventAttributes !== undefined);
    return { handle, runId };
  },
  /**
   * A guest books (the saga starts the booking's stay messages), then cancels the confirmed booking: the conversation
   * cancels it at the PMS and signals the stay messages, which end without sending; the stay messages' history.
   */
  async 'stayMessages/cancelled-with-booking'(ctx) {
    const from = '15550000014';
    const { handle: saga } = await book(ctx, from);
    await waitFor('the confirmation', () => repliesTo(ctx.standin, from) === 2);
    const conversation = ctx.temporal.workflow.getHandle(conversationOf(from));
    await waitFor(
      'the booking settled',
      async () => (await conversation.query(stateQuery)).booking?.status === 'confirmed',
    );
    await ctx.post(textWebhook({ from, id: uniqueMessageId(), body: 'Cancela mi reserva', timestamp: nowSeconds() }));
    await waitFor('the cancellation told', () => repliesTo(ctx.standin, from) === 3, { timeoutMs: 30_000 });
    return { handle: ctx.temporal.workflow.getHandle(stayMessagesWorkflowId(saga.workflowId)) };
  },
  /**
   * The demo hotel's offsets set so that a booking a month ahead has its pre-arrival message due seconds after it is
   * made and its thank-you message a few seconds later: both sent as the hotel's templates, after their timers.
   */
  async 'stayMessages/pre-arrival-and-post-stay-sent'(ctx) {
    const from = '15550000015';
    const { checkIn, checkOut } = bookedStay();
    const { rows } = await ctx.db.query<{ info: Record<string, string>; timezone: string; messaging: object }>(
      'SELECT info, timezone, messaging FROM tenants WHERE id = $1',
      [demoTenantId],
    );
    const tenant = rows[0]!;
    const times = stayTimes(tenant.info);
    const soon = (seconds: number) => Date.now() + seconds * 1000;
    const stayMessages = {
      preArrivalBeforeSeconds: Math.round(
        (localDateTime(checkIn, times.checkInTime, tenant.timezone) - soon(20)) / 1000,
      ),
      postStayAfterSeconds: Math.round(
        (soon(30) - localDateTime(checkOut, times.checkOutTime, tenant.timezone)) / 1000,
      ),
    };
    const setMessaging = async (messaging: object) => {
      await ctx.db.query('UPDATE tenants SET messaging = $2 WHERE id = $1', [demoTenantId, JSON.stringify(messaging)]);
      await notifyTenantsChanged(ctx.db);
    };
    await setMessaging({ ...tenant.messaging, stayMessages });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // the worker's tenant directory reloads on notify
      const { handle: saga } = await book(ctx, from);
      await waitFor('the confirmation', () => repliesTo(ctx.standin, from) === 2);
      const handle = ctx.temporal.workflow.getHandle(stayMessagesWorkflowId(saga.workflowId));
      await waitFor('both stay messages', () => repliesTo(ctx.standin, from) === 4, { timeoutMs: 60_000 });
      return { handle };
    } finally {
      await setMessaging(tenant.messaging);
    }
  },
  /**
   * The demo hotel has interactive messages on: the offer goes as a list, the guest taps a row (the booking is made),
   * then taps the confirmation's cancel button (the booking and its stay messages are cancelled).
   */
  async 'conversation/interactive-list-booking'({ temporal, standin, post }) {
    const from = '15550000016';
    const { checkIn, checkOut } = bookedStay();
    await post(
      textWebhook({
        from,
        id: uniqueMessageId(),
        body: `¿Tienen habitación del ${checkIn} al ${checkOut} para 2 adultos?`,
        timestamp: nowSeconds(),
      }),
    );
    await waitFor('the offer', () => repliesTo(standin, from) === 1);
    const offer = standin.sent.filter((m) => m.to === from)[0]!;
    const row = offer.interactive?.action?.sections?.[0]?.rows?.[0];
    if (offer.type !== 'interactive' || !row?.id || !row.title) throw new Error('the offer was not sent as a list');
    const tap = interactiveReplyWebhook('list_reply', {
      phoneNumberId,
      from,
      id: row.id,
      title: row.title,
      contextId: offer.id,
    });
    await post(tap.payload);
    await waitFor('the confirmation', () => repliesTo(standin, from) === 2);
    const handle = temporal.workflow.getHandle(conversationOf(from));
    await waitFor('the booking settled', async () => (await handle.query(stateQuery)).booking?.status === 'confirmed');
    const confirmation = standin.sent.filter((m) => m.to === from)[1]!;
    const button = confirmation.interactive?.action?.buttons?.find((b) => b.reply?.id === 'intent:cancel_booking');
    if (!button?.reply?.id || !button.reply.title) throw new Error('the confirmation has no cancel button');
    const cancel = interactiveReplyWebhook('button_reply', {
      phoneNumberId,
      from,
      id: button.reply.id,
      title: button.reply.title,
      contextId: confirmation.id,
    });
    await post(cancel.payload);
    await waitFor('the cancellation told', () => repliesTo(standin, from) === 3);
    // The run in which the tapped row started the booking saga.
    const runId = await runWhere(
      temporal,
      handle,
      (e) => e.startChildWorkflowExecutionInitiatedEventAttributes !== undefined,
    );
    return { handle, runId };
  },
  /** A burst of messages that crosses continue-as-new; the first run's history is recorded. */
  async 'conversation/continue-as-new'({ temporal, standin, post }) {
    const from = '15550000003';
    const handle = temporal.workflow.getHandle(conversationOf(from));
    await post(textWebhook({ from, id: uniqueMessageId(), body: 'Hello 0' }));
    const firstRunId = (await handle.describe()).runId;
    for (let i = 1; i < 10; i++) await post(textWebhook({ from, id: uniqueMessageId(), body: `Hello ${i}` }));
    await waitFor('ten replies', () => repliesTo(standin, from) === 10, { timeoutMs: 30_000 });
    return { handle, runId: firstRunId };
  },
};

/** A wrong command line or a refusal to overwrite: said in one line, nothing started. */
class UsageError extends Error {}

interface Plan {
  version: string;
  /** Scenario names to record, each with the file it goes to (none of which exists yet). */
  targets: { name: string; file: string }[];
}

/** Reads `--version vN [--only <workflow>/<scenario>]...`; refuses an unknown scenario or a file already recorded. */
function plan(argv: string[]): Plan {
  let version: string | undefined;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if ((arg === '--version' || arg === '--only') && value !== undefined) {
      if (arg === '--version') version = value;
      else only.push(value);
      i++;
    } else {
      throw new UsageError(
        `Unexpected argument ${arg}; usage: record-histories --version vN [--only workflow/scenario]...`,
      );
    }
  }
  if (!version || !versionPattern.test(version)) {
    throw new UsageError(
      '--version vN is required (v2, v3, …): a released version is recorded once, never overwritten',
    );
  }
  const known = Object.keys(scenarios);
  // `conversation-media` names the same scenario as `conversation/media`.
  const wanted = only.map((o) => known.find((k) => k === o || k.replace('/', '-') === o) ?? o);
  const unknown = wanted.filter((w) => !known.includes(w));
  if (unknown.length > 0) throw new UsageError(`Unknown scenario ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const targets = known
    .filter((name) => wanted.length === 0 || wanted.includes(name))
    .map((name) => {
      const [workflow, scenario] = name.split('/') as [string, string];
      return { name, file: path.join(historiesDir, workflow, version, `${scenario}.json`) };
    });
  const existing = targets.filter((t) => existsSync(t.file));
  if (existing.length > 0) {
    const files = existing.map((t) => path.relative(process.cwd(), t.file)).join(', ');
    throw new UsageError(`Refusing to overwrite recorded histories (${files}): record a new version instead`);
  }
  return { version, targets };
}

async function main(): Promise<void> {
  const { targets } = plan(process.argv.slice(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hm-record-'));
  chmodSync(dir, 0o755); // the postgres user must reach its data directory
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const server = await startTemporalDevServer({
    headless: true,
    logDir: dir,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 30 },
  });
  // The demo hotel's templates are approved, as Meta approves a deployment's (the stay messages send them).
  const standin = await startWhatsAppStandin({
    accessToken: secrets.WHATSAPP_ACCESS_TOKEN,
    templates: demoTemplateNames,
  });
  const postgres = await startPostgres({ dataDir: path.join(dir, 'pg'), fast: true });
  const db = createPool(postgres.url, { max: 4 });
  await migrate(db);
  await seedDemo(db); // owns business number 106540352242922
  const pmsKey = 'RECORDPMSKEY0123456789ABCDEFGHIJ';
  const pms = await startPmsStandin({ webserviceKey: pmsKey });
  await db.query('UPDATE tenants SET pms_base_url = $1 WHERE id = $2', [pms.url, demoTenantId]);
  const redisServer = await startRedis({ dir: path.join(dir, 'redis') });
  // The guest of the isolation scenario is registered to another hotel.
  await createTestTenant(db, { identifiers: ['+15550000004'] });
  const config: Config = loadConfig({
    ...secrets,
    LOG_LEVEL: 'silent',
    TEMPORAL_ADDRESS: server.address,
    WHATSAPP_GRAPH_BASE_URL: standin.url,
    CONVERSATION_IDLE_TIMEOUT_SECONDS: '3',
    // A closed conversation's dormant run ends this long after the last message (7 days in production).
    CONVERSATION_DEDUP_WINDOW_SECONDS: '15',
    DATABASE_URL: postgres.url,
    REDIS_URL: redisServer.url,
    MEDIA_DIR: path.join(dir, 'media'),
    PMS_BREAKER_HALF_OPEN_AFTER_MS: '1000',
    BOOKING_PMS_TIMEOUT_SECONDS: '6',
    PMS_ALLOW_PRIVATE_NETWORKS: 'true',
    MEDIA_ALLOWED_HOSTS: '127.0.0.1',
  });
  const log = createLogger({ level: 'silent' });
  const connection = await Connection.connect({ address: server.address });
  const temporal = new Client({ connection, dataConverter: payloadDataConverter(config.payloadKeys) });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    failureConverterPath,
    logger: new DefaultLogger('WARN'),
  });
  const { worker, close } = await createConversationWorker({
    config,
    log,
    connection: nativeConnection,
    secrets: createSecretResolver({ [demoPmsKeyVariable]: pmsKey }),
    workflowBundle: bundle,
  });
  const running = worker.run();
  const app = createApp({ temporal, config, log, db });
  const post = async (payload: unknown) => {
    const raw = JSON.stringify(payload);
    await request(app.callback())
      .post('/webhooks/whatsapp')
      .set('content-type', 'application/json')
      .set('x-hub-signature-256', signBody(raw, secrets.WHATSAPP_APP_SECRET))
      .send(raw)
      .expect(200);
  };
  try {
    for (const { name, file } of targets) {
      const { handle, runId } = await scenarios[name]!({ temporal, standin, pms, db, post });
      await handle.result(); // follows continue-as-new to the run closed by the idle timeout (and its dormant run)
      const run = runId ?? (await closedRun(temporal, handle));
      // The CLI writes the canonical proto3 JSON that `historyFromJSON` (and the Web UI's download) use.
      const json = execFileSync(
        temporalBinary,
        [
          'workflow',
          'show',
          '--address',
          server.address,
          '--workflow-id',
          handle.workflowId,
          '--run-id',
          run,
          '--output',
          'json',
        ],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      mkdirSync(path.dirname(file), { recursive: true });
      // 'wx': never overwrite, even a file that appeared while the scenarios ran.
      writeFileSync(file, json.endsWith('\n') ? json : `${json}\n`, { flag: 'wx' });
      const recorded = readHistoryJson(file);
      const type = workflowTypeOf(recorded);
      if (type !== name.split('/')[0]) throw new Error(`${name} recorded a ${type} workflow, not its own`);
      const events = recorded.events.length;
      console.log(`recorded ${path.relative(process.cwd(), file)} (${events} events)`);
    }
  } finally {
    worker.shutdown();
    await running;
    await close();
    await Promise.allSettled([pms.close(), redisServer.destroy()]);
    await Promise.allSettled([nativeConnection.close(), connection.close(), standin.close(), db.end()]);
    await Promise.allSettled([server.stop(), postgres.destroy()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
