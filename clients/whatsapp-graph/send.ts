import { ApplicationFailure } from '@temporalio/common';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ErrorType } from '../../lib/domain/errors';
import type { SendResult, SendTextInput } from '../../lib/domain/messages';
import { describeError, isNetworkError, parseJsonOrUndefined } from '../../lib/http';
import { maskPhones } from '../../lib/log';
import { messageContent } from './content';
import { classifyGraphError, graphFailure } from './errors';
import type { GraphClientOptions } from './options';

const sendResponseSchema = z.object({
  messages: z.array(z.object({ id: z.string().min(1) })).min(1),
});

/**
 * `POST /<version>/<phone-number-id>/messages` with a text. Errors are `ApplicationFailure`s that say whether retrying
 * can help: `WhatsAppRateLimited`, `WhatsAppAuthError`, `WhatsAppUnavailable` (retryable), `WhatsAppPermanentError`
 * (not).
 */
export function createGraphSender({ baseUrl, apiVersion, accessToken, timeoutMs, dispatcher }: GraphClientOptions) {
  return async function sendText(input: SendTextInput, token = accessToken): Promise<SendResult> {
    const url = `${baseUrl}/${apiVersion}/${encodeURIComponent(input.phoneNumberId)}/messages`;
    const payload = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: input.to,
      ...messageContent(input),
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
        throw ApplicationFailure.retryable(
          `WhatsApp unreachable: ${describeError(err)}`,
          ErrorType.WhatsAppUnavailable,
        );
      }
      throw err;
    }
    const body = parseJsonOrUndefined(await response.body.text());
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      // A 2xx means Meta has the message: retrying would send the guest the same reply again.
      const parsed = sendResponseSchema.safeParse(body);
      return { messageId: parsed.success ? parsed.data.messages[0]!.id : null };
    }
    const error = classifyGraphError(status, body);
    const code = error.code !== undefined ? `, code ${error.code}` : '';
    const message = `WhatsApp send failed: HTTP ${status}${code}: ${maskPhones(error.metaMessage)}`;
    throw graphFailure(error, message, response.headers['retry-after'], {
      transient: ErrorType.WhatsAppUnavailable,
      permanent: ErrorType.WhatsAppPermanentError,
    });
  };
}
