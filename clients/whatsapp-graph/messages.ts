import type { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import { ErrorType } from '../../lib/domain/errors';
import { parseJsonOrUndefined } from '../../lib/http';
import { maskPhones } from '../../lib/log';
import { classifyGraphError, graphFailure } from './errors';
import type { GraphClientOptions } from './options';

/** Meta's answer to a POST on a business number's messages endpoint: its status, JSON body and `Retry-After`. */
export interface MessagesAnswer {
  status: number;
  body: unknown;
  retryAfter: string | string[] | undefined;
}

/**
 * `POST /<version>/<phone-number-id>/messages` with `payload`: the one request behind sends and read receipts. Network
 * errors are thrown as undici throws them; the caller decides what each means (a send may have reached Meta).
 */
export async function postMessages(
  {
    baseUrl,
    apiVersion,
    timeoutMs,
    dispatcher,
  }: Pick<GraphClientOptions, 'baseUrl' | 'apiVersion' | 'timeoutMs' | 'dispatcher'>,
  phoneNumberId: string,
  token: string,
  payload: Record<string, unknown>,
): Promise<MessagesAnswer> {
  const response = await request(`${baseUrl}/${apiVersion}/${encodeURIComponent(phoneNumberId)}/messages`, {
    method: 'POST',
    dispatcher,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(payload),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const body = parseJsonOrUndefined(await response.body.text());
  return { status: response.statusCode, body, retryAfter: response.headers['retry-after'] };
}

/** A non-2xx answer as the failure its Graph error calls for; `what` names the call in the message (`send`). */
export function messagesFailure(what: string, { status, body, retryAfter }: MessagesAnswer): ApplicationFailure {
  const error = classifyGraphError(status, body);
  const code = error.code !== undefined ? `, code ${error.code}` : '';
  return graphFailure(
    error,
    `WhatsApp ${what} failed: HTTP ${status}${code}: ${maskPhones(error.metaMessage)}`,
    retryAfter,
    {
      transient: ErrorType.WhatsAppUnavailable,
      permanent: ErrorType.WhatsAppPermanentError,
    },
  );
}
