import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { ErrorType } from '../../lib/domain/errors';
import type { SendResult, SendTextInput } from '../../lib/domain/messages';
import { describeError, errorCode, isNetworkError } from '../../lib/http';
import { messageContent } from './content';
import { inSpan, SpanKind, type Span } from '../../lib/tracing';
import { messagesFailure, postMessages, type MessagesAnswer } from './messages';
import type { GraphClientOptions } from './options';

/** The Graph route a send posts to. */
const route = '/{version}/{phone-number-id}/messages';

const sendResponseSchema = z.object({
  messages: z.array(z.object({ id: z.string().min(1) })).min(1),
});

/** Failures before a connection existed: nothing was written, so sending again cannot duplicate the message. */
const beforeSendingCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether a network error happened before the request could be written (refused, DNS, connect timeout). */
export function refusedBeforeSending(err: unknown): boolean {
  const code = errorCode(err) ?? errorCode((err as { cause?: unknown } | undefined)?.cause);
  return code !== undefined && beforeSendingCodes.has(code);
}

/**
 * `POST /<version>/<phone-number-id>/messages` with a text. Errors are `ApplicationFailure`s that say whether retrying
 * can help: `WhatsAppRateLimited`, `WhatsAppAuthError`, `WhatsAppUnavailable` (retryable), `WhatsAppPermanentError`
 * (not), and `SendOutcomeUnknown` when the request may have reached Meta (a timeout or reset after it was written).
 */
export function createGraphSender(options: GraphClientOptions) {
  const { baseUrl, accessToken, tracer } = options;
  // The route's template, never the URL: no id in an attribute, and one span for every number.
  const attributes = { 'http.request.method': 'POST', 'server.address': new URL(baseUrl).host, 'url.template': route };
  /** The send in a client span of the running activity's trace, when the worker traces. */
  const traced = (fn: (span?: Span) => Promise<SendResult>) =>
    tracer ? inSpan(tracer, 'POST graph messages', { kind: SpanKind.CLIENT, attributes }, fn) : fn();
  return (input: SendTextInput, token = accessToken): Promise<SendResult> =>
    traced((span) => sendText(input, token, span));

  async function sendText(input: SendTextInput, token: string, span?: Span): Promise<SendResult> {
    const payload = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: input.to,
      ...messageContent(input),
      ...(input.replyTo ? { context: { message_id: input.replyTo } } : {}),
      // Echoed by Meta in the message's status webhooks: how a send whose outcome is unknown is reconciled.
      ...(input.idempotencyKey ? { biz_opaque_callback_data: input.idempotencyKey } : {}),
    };
    let answer: MessagesAnswer;
    try {
      answer = await postMessages(options, input.phoneNumberId, token, payload);
    } catch (err) {
      if (isNetworkError(err)) {
        if (refusedBeforeSending(err)) {
          throw ApplicationFailure.retryable(
            `WhatsApp unreachable: ${describeError(err)}`,
            ErrorType.WhatsAppUnavailable,
          );
        }
        // The request may have reached Meta: sending it again could give the guest the same message twice.
        throw ApplicationFailure.retryable(
          `WhatsApp send outcome unknown: ${describeError(err)}`,
          ErrorType.SendOutcomeUnknown,
        );
      }
      throw err;
    }
    const { status, body } = answer;
    span?.setAttribute('http.response.status_code', status);
    if (status >= 200 && status < 300) {
      // A 2xx means Meta has the message: retrying would send the guest the same reply again.
      const parsed = sendResponseSchema.safeParse(body);
      return { messageId: parsed.success ? parsed.data.messages[0]!.id : null };
    }
    throw messagesFailure('send', answer);
  }
}
