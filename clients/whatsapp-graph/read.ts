import { ApplicationFailure } from '@temporalio/common';
import { request, type Dispatcher } from 'undici';
import { ErrorType } from '../../lib/domain/errors';
import type { MarkReadInput } from '../../lib/domain/messages';
import { describeError, isNetworkError, parseJsonOrUndefined } from '../../lib/http';
import { maskPhones } from '../../lib/log';
import { classifyGraphError, graphFailure } from './errors';
import type { GraphClientOptions } from './options';

/**
 * `POST /<version>/<phone-number-id>/messages` with `status: "read"` for a guest's message, and, when asked, the
 * typing indicator (`typing_indicator: {type: "text"}`), which WhatsApp shows until we answer or for 25 s.
 * Meta answers `{"success": true}`. Marking a message read twice is harmless, so a retry needs no key.
 * See https://developers.facebook.com/docs/whatsapp/cloud-api/typing-indicators.
 */
export function createGraphReader({ baseUrl, apiVersion, accessToken, timeoutMs, dispatcher }: GraphClientOptions) {
  return async function markRead(input: MarkReadInput, token = accessToken): Promise<void> {
    const url = `${baseUrl}/${apiVersion}/${encodeURIComponent(input.phoneNumberId)}/messages`;
    const payload = {
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: input.messageId,
      ...(input.typing ? { typing_indicator: { type: 'text' } } : {}),
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
    if (status >= 200 && status < 300) return;
    const error = classifyGraphError(status, body);
    const code = error.code !== undefined ? `, code ${error.code}` : '';
    throw graphFailure(
      error,
      `WhatsApp mark-read failed: HTTP ${status}${code}: ${maskPhones(error.metaMessage)}`,
      response.headers['retry-after'],
      { transient: ErrorType.WhatsAppUnavailable, permanent: ErrorType.WhatsAppPermanentError },
    );
  };
}
