/**
 * The two reference webhook handlers the ingress benchmark compares our API with, each run as its own process
 * (`node --import tsx bench/targets.ts bare|hmac`, port and secrets from the environment):
 *
 * - `bare`: Koa, reads the body, JSON.parse, one `signalWithStart` per message, the same workflow and input our
 *   API starts (keyed workflow id, encrypted payloads); no signature check, no validation, no logging. What
 *   signalWithStart alone costs.
 * - `hmac`: Koa, checks X-Hub-Signature-256 and validates the payload exactly as our API does, then answers 200
 *   without calling Temporal. The ceiling of the HTTP side.
 */
import { Client, Connection } from '@temporalio/client';
import Koa from 'koa';
import getRawBody from 'raw-body';
import { isValidSignature } from '../api/signature';
import { extractDeliveries, webhookPayloadSchema } from '../api/whatsapp-payload';
import { PayloadKeyRing, payloadDataConverter } from '../lib/codec';
import { conversationWorkflowId, type InboundMessage } from '../lib/domain/messages';
import { createGuestRefs, type GuestRefs } from '../lib/guest-refs';
import { ConversationStatus } from '../lib/domain/search-attributes';
import { inboundMessageSignal, type ConversationInput } from '../lib/domain/conversation';
import type { conversation } from '../workflows/conversation';

interface MetaText {
  entry: {
    changes: {
      value: {
        metadata: { phone_number_id: string };
        messages?: { id: string; from: string; timestamp: string; type: string; text?: { body: string } }[];
      };
    }[];
  }[];
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

function bareHandler(temporal: Client, taskQueue: string, guestRefs: GuestRefs): Koa.Middleware {
  return async (ctx) => {
    const payload = JSON.parse((await getRawBody(ctx.req)).toString('utf8')) as MetaText;
    const starts = payload.entry.flatMap((entry) =>
      entry.changes.flatMap(({ value }) =>
        (value.messages ?? []).map((m) => {
          const input: ConversationInput = {
            phoneNumberId: value.metadata.phone_number_id,
            waId: m.from,
            idleTimeoutSeconds: 86_400,
            seenIdsMax: 1_000,
          };
          const message: InboundMessage = {
            id: m.id,
            from: m.from,
            timestamp: Number(m.timestamp),
            type: m.type,
            ...(m.text ? { text: m.text.body } : {}),
          };
          return temporal.workflow.signalWithStart<typeof conversation, [InboundMessage]>('conversation', {
            workflowId: conversationWorkflowId(input.phoneNumberId, guestRefs.of(input.waId)),
            taskQueue,
            args: [input],
            signal: inboundMessageSignal,
            signalArgs: [message],
            typedSearchAttributes: [{ key: ConversationStatus, value: 'active' }],
          });
        }),
      ),
    );
    await Promise.all(starts);
    ctx.body = { received: starts.length };
  };
}

function hmacHandler(appSecret: string): Koa.Middleware {
  return async (ctx) => {
    const raw = await getRawBody(ctx.req, { limit: 3 * 1024 * 1024 });
    if (!isValidSignature(raw, ctx.get('x-hub-signature-256'), appSecret)) {
      ctx.status = 401;
      return;
    }
    const parsed = webhookPayloadSchema.safeParse(JSON.parse(raw.toString('utf8')));
    if (!parsed.success) {
      ctx.status = 400;
      return;
    }
    const { messages, statuses } = extractDeliveries(parsed.data);
    ctx.body = { received: { messages: messages.length, statuses: statuses.length } };
  };
}

async function main(): Promise<void> {
  const kind = process.argv[2];
  const app = new Koa();
  if (kind === 'bare') {
    const connection = await Connection.connect({ address: env('TEMPORAL_ADDRESS') });
    // The same workflow id (keyed guest reference) and payload encryption as our API.
    const keys = PayloadKeyRing.parse(env('PAYLOAD_KEYS')) as PayloadKeyRing;
    const client = new Client({ connection, dataConverter: payloadDataConverter(keys) });
    app.use(bareHandler(client, env('TEMPORAL_TASK_QUEUE'), createGuestRefs(env('GUEST_REF_KEY'))));
  } else if (kind === 'hmac') {
    app.use(hmacHandler(env('WHATSAPP_APP_SECRET')));
  } else {
    throw new Error(`usage: targets.ts bare|hmac (got ${kind ?? 'nothing'})`);
  }
  app.listen(Number(env('API_PORT')), '127.0.0.1', () => console.log(`${kind} target listening`));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
