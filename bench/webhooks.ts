import { randomUUID } from 'node:crypto';
import { signBody } from '../api/signature';

/** One signed webhook as Meta posts it: the exact bytes and their X-Hub-Signature-256. */
export interface SignedWebhook {
  body: string;
  signature: string;
  messageId: string;
}

let guestCounter = 0;

/** A guest number no earlier run of this process used (a fresh conversation). */
export function newGuest(): string {
  guestCounter++;
  return `3469${String(process.pid % 1000).padStart(3, '0')}${String(guestCounter).padStart(7, '0')}`;
}

/** Meta's text message webhook (the shape of its published `text` example) from `waId`, signed with `secret`. */
export function textWebhook(secret: string, phoneNumberId: string, waId: string, text: string): SignedWebhook {
  const messageId = `wamid.bench.${randomUUID()}`;
  const body = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              contacts: [{ profile: { name: 'Bench Guest' }, wa_id: waId }],
              messages: [
                {
                  from: waId,
                  id: messageId,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  type: 'text',
                  text: { body: text },
                },
              ],
            },
            field: 'messages',
          },
        ],
      },
    ],
  });
  return { body, signature: signBody(body, secret), messageId };
}
