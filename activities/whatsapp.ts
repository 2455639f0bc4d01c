import { ApplicationFailure } from '@temporalio/activity';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ErrorType } from '../lib/domain/errors';
import { maskPhones } from '../lib/log';
import { requireSecret, type SecretResolver } from '../lib/secrets';
import { isNetworkError, parseJsonOrUndefined, retryAfterMs } from '../lib/http';

/**
 * Graph API error codes, from Meta's Cloud API error-code reference
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/).
 */
const rateLimitCodes = new Set([4, 80007, 130429, 131048, 131056]);
const transientCodes = new Set([1, 2, 131000, 131016, 133004]);
const authCodes = new Set([0, 190]);
/** Retrying these cannot help: the recipient, the content or the 24 h window is the problem. */
const permanentCodes = new Set([
  100, // invalid parameter
  131008, // required parameter missing
  131009, // parameter value invalid
  131021, // recipient cannot be sender
  131026, // message undeliverable (not a WhatsApp user, old app, ...)
  131030, // recipient not in allowed list (test numbers)
  131047, // re-engagement message: more than 24 h since the guest last wrote
  131051, // unsupported message type
  131052, // media download error
  131053, // media upload error
  470, // legacy re-engagement error
]);

const sendResponseSchema = z.object({
  messages: z.array(z.object({ id: z.string().min(1) })).min(1),
});

const graphErrorSchema = z.object({
  error: z.object({
    message: z.string().default(''),
    type: z.string().optional(),
    code: z.number().int(),
    error_subcode: z.number().int().optional(),
    fbtrace_id: z.string().optional(),
    error_data: z.object({ details: z.string().optional() }).partial().optional(),
  }),
});

export interface WhatsAppClientOptions {
  baseUrl: string;
  apiVersion: string;
  /** The token for numbers whose tenant names none of its own. */
  accessToken: string;
  timeoutMs: number;
  dispatcher: Dispatcher;
}

export interface SendTextInput {
  /** The business number to send from (Meta's `phone_number_id`). */
  phoneNumberId: string;
  /** The guest's WhatsApp id. */
  to: string;
  text: string;
  /** The inbound message this answers; shown as a quoted reply in WhatsApp. */
  replyTo?: string;
  /** The tenant's own access token reference (`env:TENANT_<ID>_<NAME>`); the default token when absent. */
  tokenRef?: string | null;
  /** The tenant whose namespace `tokenRef` must be in (a reference without it is refused); labels
   * `config_failures_total` when its token fails. */
  tenantId?: string | null;
}

export interface SendResult {
  /**
   * Meta's id of the message, or null when Meta answered 2xx without one: the message was accepted (it is
   * delivered, and never sent again) but its id, and so its delivery statuses, are unknown.
   */
  messageId: string | null;
}

function failureFromGraphError(
  status: number,
  body: unknown,
  retryAfter: string | string[] | undefined,
): ApplicationFailure {
  const parsed = graphErrorSchema.safeParse(body);
  const code = parsed.success ? parsed.data.error.code : undefined;
  const details = parsed.success
    ? {
        httpStatus: status,
        code,
        subcode: parsed.data.error.error_subcode,
        fbtraceId: parsed.data.error.fbtrace_id,
      }
    : { httpStatus: status };
  const metaMessage = parsed.success ? maskPhones(parsed.data.error.message) : 'unreadable error body';
  const message = `WhatsApp send failed: HTTP ${status}${code !== undefined ? `, code ${code}` : ''}: ${metaMessage}`;

  if (status === 429 || (code !== undefined && rateLimitCodes.has(code))) {
    const delay = retryAfterMs(retryAfter);
    return ApplicationFailure.create({
      type: ErrorType.WhatsAppRateLimited,
      message,
      details: [details],
      ...(delay !== undefined ? { nextRetryDelay: delay } : {}),
    });
  }
  if (status === 401 || (code !== undefined && authCodes.has(code))) {
    return ApplicationFailure.retryable(message, ErrorType.WhatsAppAuthError, details);
  }
  if (status >= 500 || (code !== undefined && transientCodes.has(code))) {
    return ApplicationFailure.retryable(message, ErrorType.WhatsAppUnavailable, details);
  }
  if ((code !== undefined && permanentCodes.has(code)) || (status >= 400 && status < 500)) {
    return ApplicationFailure.nonRetryable(message, ErrorType.WhatsAppPermanentError, details);
  }
  return ApplicationFailure.retryable(message, ErrorType.WhatsAppUnavailable, details);
}

/**
 * A client for the WhatsApp Cloud API (Graph API) send endpoint. Errors come back as Temporal
 * `ApplicationFailure`s that say whether retrying can help.
 */
export function createWhatsAppClient(options: WhatsAppClientOptions) {
  const { baseUrl, apiVersion, accessToken, timeoutMs, dispatcher } = options;

  async function sendText(input: SendTextInput, token = accessToken): Promise<SendResult> {
    const url = `${baseUrl}/${apiVersion}/${encodeURIComponent(input.phoneNumberId)}/messages`;
    const payload = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: input.to,
      type: 'text',
      text: { preview_url: false, body: input.text },
      ...(input.replyTo ? { context: { message_id: input.replyTo } } : {}),
    };
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'POST',
        dispatcher,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (err) {
      if (isNetworkError(err)) {
        const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        throw ApplicationFailure.retryable(`WhatsApp unreachable: ${reason}`, ErrorType.WhatsAppUnavailable);
      }
      throw err;
    }
    const text = await response.body.text();
    const body = parseJsonOrUndefined(text);
    if (response.statusCode >= 200 && response.statusCode < 300) {
      // A 2xx means Meta has the message: retrying would send the guest the same reply again.
      const parsed = sendResponseSchema.safeParse(body);
      return { messageId: parsed.success ? parsed.data.messages[0]!.id : null };
    }
    throw failureFromGraphError(response.statusCode, body, response.headers['retry-after']);
  }

  return { sendText };
}

export type WhatsAppClient = ReturnType<typeof createWhatsAppClient>;

/** The WhatsApp activities; `createActivities` wires them to the process's client. */
export function createWhatsAppActivities({ whatsapp, secrets }: { whatsapp: WhatsAppClient; secrets: SecretResolver }) {
  return {
    /** Sends a text reply to a guest. Idempotency is the workflow's job: it calls this once per reply. */
    async sendMessage(input: SendTextInput): Promise<SendResult> {
      if (!input.tokenRef) return whatsapp.sendText(input);
      return whatsapp.sendText(input, requireSecret(secrets, input.tenantId, input.tokenRef, 'WhatsApp token'));
    },
  };
}
