import Router from '@koa/router';
import type { Tracer } from '@opentelemetry/api';
import type { Context } from 'koa';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import getRawBody from 'raw-body';
import type { Config } from '../lib/config';
import { conversationWorkflowId, keyWorkflowId } from '../lib/domain/messages';
import { ConversationStatus, GuestRef } from '../lib/domain/search-attributes';
import { createGuestRefs } from '../lib/guest-refs';
import type { Logger } from '../lib/log';
import { disabledTracing, inSpan, SpanKind } from '../lib/tracing';
import {
  conversationWorkflowType,
  deliveryStatusSignal,
  inboundMessageSignal,
  type ConversationInput,
  type ConversationWorkflow,
} from '../lib/domain/conversation';
import { isValidSignature, tokensEqual } from './signature';
import { HttpError } from './errors';
import {
  extractDeliveries,
  groupByConversation,
  parseWebhookPayload,
  type ConversationDeliveries,
  type MessageDelivery,
  type StatusDelivery,
} from './whatsapp-payload';

/** The status an error is answered with (`errorHandler`): an HttpError's own, 500 for anything else. */
function statusOf(err: unknown): number {
  return err instanceof HttpError ? err.status : 500;
}

/** A refused payload's answer lists this many validation issues at most (and says `more: true` if there are). */
const reportedIssuesMax = 20;

/**
 * The largest message or status the webhook signals. Temporal refuses payloads over 2 MB (its default blob
 * size limit), which would fail the webhook with a 503 on every retry; Meta's texts are at most 4096
 * characters, so a message this large cannot be Meta's.
 */
const signalMaxBytes = 256 * 1024;

export interface WebhookDeps {
  temporal: Client;
  config: Config;
  log: Logger;
  /** Each notification is a server span, the root of its messages' traces (lib/tracing.ts); none by default. */
  tracer?: Tracer | undefined;
}

/** The server span's attributes: the route, never the URL or anything from the body. */
const serverSpanAttributes = { 'http.request.method': 'POST', 'http.route': '/webhooks/whatsapp' };

/**
 * Meta's webhook: the verification handshake (GET) and notifications (POST).
 * The POST path needs only Temporal: it never touches Postgres or Redis, so their outages cannot fail it.
 */
export function webhookRouter({ temporal, config, log, tracer }: WebhookDeps): Router {
  const router = new Router();
  const spans = tracer ?? disabledTracing().tracer;
  const guestRefs = createGuestRefs(config.guestRefKey);

  router.get('/webhooks/whatsapp', (ctx) => {
    const mode = ctx.query['hub.mode'];
    const token = ctx.query['hub.verify_token'];
    const challenge = ctx.query['hub.challenge'];
    // Hashed and compared in constant time, so the answer time does not leak the token (security review, 12).
    const tokenMatches = typeof token === 'string' && tokensEqual(token, config.whatsapp.verifyToken);
    if (mode === 'subscribe' && tokenMatches && typeof challenge === 'string') {
      ctx.type = 'text/plain';
      ctx.body = challenge;
      return;
    }
    throw new HttpError(403, 'verification_failed', 'hub.mode or hub.verify_token is wrong');
  });

  async function deliverMessage({ phoneNumberId, waId, message }: MessageDelivery): Promise<void> {
    const guestRef = guestRefs.of(waId);
    const input: ConversationInput = {
      phoneNumberId,
      waId,
      guestRef,
      idleTimeoutSeconds: config.conversation.idleTimeoutSeconds,
      seenIdsMax: config.conversation.seenIdsMax,
      dedupWindowSeconds: config.conversation.dedupWindowSeconds,
      reconcileWaitSeconds: config.conversation.reconcileWaitSeconds,
      sendTimeoutSeconds: config.whatsapp.sendTimeoutSeconds,
      guestMessaging: config.guestMessaging,
      booking: {
        maxStayNights: config.booking.maxStayNights,
        holdTtlSeconds: config.holds.ttlSeconds,
        holdMaxExtensions: config.holds.maxExtensions,
        pmsTimeoutSeconds: config.booking.pmsTimeoutSeconds,
      },
    };
    await temporal.workflow.signalWithStart<ConversationWorkflow, [typeof message]>(conversationWorkflowType, {
      workflowId: conversationWorkflowId(phoneNumberId, guestRefs.of(waId)),
      taskQueue: config.temporal.taskQueue,
      args: [input],
      signal: inboundMessageSignal,
      signalArgs: [message],
      // GuestRef: the admin API finds a guest's conversations (export, erasure) by it, never by the number.
      typedSearchAttributes: [
        { key: ConversationStatus, value: 'active' },
        { key: GuestRef, value: guestRef },
      ],
      staticSummary: `WhatsApp guest conversation on business number ${phoneNumberId}`,
      staticDetails: `Guest ref ${guestRef}. Query \`state\` for the last messages.`,
    });
  }

  async function deliverStatus({ phoneNumberId, waId, status }: StatusDelivery): Promise<void> {
    const workflowId = conversationWorkflowId(phoneNumberId, guestRefs.of(waId));
    // The key reconciles a send in doubt: only one that names this very conversation is passed on (a booking saga's
    // key, or a string another app sent, is not this conversation's to match).
    const { key, ...rest } = status;
    const update = key !== undefined && keyWorkflowId(key) === workflowId ? { ...rest, key } : rest;
    try {
      await temporal.workflow.getHandle(workflowId).signal(deliveryStatusSignal, update);
    } catch (err) {
      // A status for a conversation that has closed (or a group we never wrote to) has nowhere to go.
      if (err instanceof WorkflowNotFoundError) {
        log.debug({ messageId: status.messageId, status: status.status }, 'status for no open conversation');
        return;
      }
      throw err;
    }
  }

  /** One conversation's signals, one after another: its messages in timestamp order, then its statuses. */
  async function deliverConversation({ messages, statuses }: ConversationDeliveries): Promise<void> {
    for (const m of messages) await deliverMessage(m);
    for (const s of statuses) await deliverStatus(s);
  }

  router.post('/webhooks/whatsapp', (ctx) =>
    inSpan(
      spans,
      'POST /webhooks/whatsapp',
      // A refusal (4xx) is the sender's error, not ours: only a 5xx marks the span failed.
      { kind: SpanKind.SERVER, attributes: serverSpanAttributes, isFailure: (err) => statusOf(err) >= 500 },
      async (span) => {
        try {
          await receiveNotification(ctx);
          span.setAttribute('http.response.status_code', ctx.status);
        } catch (err) {
          span.setAttribute('http.response.status_code', statusOf(err));
          throw err;
        }
      },
    ),
  );

  /** A notification: checked, then every message and status in it signalled, before the answer. */
  async function receiveNotification(ctx: Context): Promise<void> {
    if (!ctx.is('application/json')) {
      throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json');
    }
    const signature = ctx.get('x-hub-signature-256');
    if (!signature) throw new HttpError(401, 'missing_signature', 'X-Hub-Signature-256 header is required');

    let raw: Buffer;
    try {
      raw = await getRawBody(ctx.req, { limit: config.webhook.maxBodyBytes });
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type === 'entity.too.large') {
        throw new HttpError(413, 'payload_too_large', `Body exceeds ${config.webhook.maxBodyBytes} bytes`);
      }
      throw new HttpError(400, 'unreadable_body', 'Could not read the request body');
    }
    if (!isValidSignature(raw, signature, config.whatsapp.appSecret)) {
      throw new HttpError(401, 'invalid_signature', 'X-Hub-Signature-256 does not match the body');
    }

    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_json', 'Body is not valid JSON');
    }
    const parsed = parseWebhookPayload(json, reportedIssuesMax);
    if (!parsed.success) {
      throw new HttpError(400, 'invalid_payload', 'Body is not a WhatsApp Business Account webhook', {
        issues: parsed.issues,
        ...(parsed.truncated ? { more: true } : {}),
      });
    }

    const { messages, statuses } = extractDeliveries(parsed.data);
    const signals = [...messages.map((m) => m.message), ...statuses.map((s) => s.status)];
    if (signals.some((signal) => Buffer.byteLength(JSON.stringify(signal)) > signalMaxBytes)) {
      throw new HttpError(413, 'message_too_large', `A message or status in the body exceeds ${signalMaxBytes} bytes`);
    }
    const deadline = Date.now() + config.webhook.temporalTimeoutMs;
    try {
      // Answer 200 only once Temporal has accepted every signal; if any fails Meta retries the whole
      // payload, and the conversations drop the messages they already have by their WhatsApp id.
      // Signals to one conversation go one at a time, so it sees its messages in the order they were
      // written; different conversations go concurrently.
      await temporal.connection.withDeadline(deadline, () =>
        Promise.all(groupByConversation(messages, statuses).map(deliverConversation)),
      );
    } catch (err) {
      log.error({ err, messages: messages.length, statuses: statuses.length }, 'Temporal did not accept the webhook');
      throw new HttpError(503, 'temporal_unavailable', 'Could not hand the messages to Temporal; retry later');
    }
    log.info({ messages: messages.length, statuses: statuses.length }, 'webhook accepted');
    ctx.body = { received: { messages: messages.length, statuses: statuses.length } };
  }

  return router;
}
