import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/domain/errors';
import type { MarkReadInput } from '../../lib/domain/messages';
import { describeError, isNetworkError } from '../../lib/http';
import { messagesFailure, postMessages, type MessagesAnswer } from './messages';
import type { GraphClientOptions } from './options';

/**
 * `POST /<version>/<phone-number-id>/messages` with `status: "read"` for a guest's message, and, when asked, the
 * typing indicator (`typing_indicator: {type: "text"}`), which WhatsApp shows until we answer or for 25 s.
 * Meta answers `{"success": true}`. Marking a message read twice is harmless, so a retry needs no key.
 * See https://developers.facebook.com/docs/whatsapp/cloud-api/typing-indicators.
 */
export function createGraphReader(options: GraphClientOptions) {
  return async function markRead(input: MarkReadInput, token = options.accessToken): Promise<void> {
    const payload = {
      messaging_product: 'whatsapp',
      status: 'read',
      message_id: input.messageId,
      ...(input.typing ? { typing_indicator: { type: 'text' } } : {}),
    };
    let answer: MessagesAnswer;
    try {
      answer = await postMessages(options, input.phoneNumberId, token, payload);
    } catch (err) {
      if (isNetworkError(err)) {
        throw ApplicationFailure.retryable(
          `WhatsApp unreachable: ${describeError(err)}`,
          ErrorType.WhatsAppUnavailable,
        );
      }
      throw err;
    }
    if (answer.status >= 200 && answer.status < 300) return;
    throw messagesFailure('mark-read', answer);
  };
}
