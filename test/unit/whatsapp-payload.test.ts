import {
  extractDeliveries,
  parseWebhookPayload,
  webhookPayloadSchema,
  type MessageDelivery,
} from '../../api/whatsapp-payload';
import { fixtureNames, loadFixture } from '../helpers/webhooks';

const phoneNumberId = '106540352242922';
const waId = '16505551234';

function deliveries(name: string): ReturnType<typeof extractDeliveries> {
  return extractDeliveries(webhookPayloadSchema.parse(loadFixture(name)));
}

/** The single message a fixture carries. */
function onlyMessage(name: string): MessageDelivery {
  const { messages, statuses } = deliveries(name);
  expect(statuses).toEqual([]);
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

describe('webhookPayloadSchema', () => {
  it('has Meta fixtures to test against', () => {
    expect(fixtureNames().length).toBeGreaterThanOrEqual(20);
  });

  it.each(fixtureNames())('parses %s.json', (name) => {
    const result = webhookPayloadSchema.safeParse(loadFixture(name));
    expect(result.error).toBeUndefined();
    expect(result.success).toBe(true);
  });

  it('rejects a payload for another object type', () => {
    expect(webhookPayloadSchema.safeParse({ ...loadFixture('text'), object: 'page' }).success).toBe(false);
  });

  it('rejects a message without an id or sender', () => {
    const payload = loadFixture('text') as {
      entry: { changes: { value: { messages: Record<string, unknown>[] } }[] }[];
    };
    const message = payload.entry[0]!.changes[0]!.value.messages[0]!;
    message.from = '';
    expect(webhookPayloadSchema.safeParse(payload).success).toBe(false);
    message.from = waId;
    delete message.id;
    expect(webhookPayloadSchema.safeParse(payload).success).toBe(false);
  });
});

describe('parseWebhookPayload', () => {
  it.each(fixtureNames())('gives %s.json exactly what webhookPayloadSchema gives', (name) => {
    expect(parseWebhookPayload(loadFixture(name))).toEqual({
      success: true,
      data: webhookPayloadSchema.parse(loadFixture(name)),
    });
  });

  it('names each bad field by its full path, the envelope first', () => {
    expect(parseWebhookPayload({ object: 'page', entry: {} })).toEqual({
      success: false,
      issues: [
        { path: 'object', message: expect.any(String) },
        { path: 'entry', message: expect.any(String) },
      ],
      truncated: false,
    });
    const payload = loadFixture('text') as any;
    payload.entry.push(structuredClone(payload.entry[0]));
    payload.entry[1].changes[0].value.messages[0].from = 'a:b';
    const parsed = parseWebhookPayload(payload);
    expect(parsed).toEqual({
      success: false,
      issues: [{ path: 'entry.1.changes.0.value.messages.0.from', message: expect.stringMatching(/":"/) }],
      truncated: false,
    });
  });

  it('stops at maxIssues and says there were more', () => {
    const payload = loadFixture('text') as any;
    const value = payload.entry[0].changes[0].value;
    value.messages = Array.from({ length: 500 }, () => ({}));
    const parsed = parseWebhookPayload(payload, 5);
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    expect(parsed.issues).toHaveLength(5);
    expect(parsed.truncated).toBe(true);
  });

  it('refuses an array past its bound with one issue, without looking at its elements', () => {
    const payload = loadFixture('text') as any;
    payload.entry[0].changes[0].value.messages = Array.from({ length: 100_000 }, () => 1);
    expect(parseWebhookPayload(payload)).toEqual({
      success: false,
      issues: [{ path: 'entry.0.changes.0.value.messages', message: expect.stringMatching(/<=1000/) }],
      truncated: false,
    });
  });
});

describe('extractDeliveries', () => {
  it('text.json: one message addressed to its conversation', () => {
    expect(onlyMessage('text')).toEqual({
      phoneNumberId,
      waId,
      message: {
        id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
        from: waId,
        timestamp: 1749416383,
        type: 'text',
        text: 'Does it come in another color?',
        profileName: 'Sheena Nelson',
      },
    });
  });

  it('text_ctwa_referral.json: the text of a message from an ad', () => {
    const { message } = onlyMessage('text_ctwa_referral');
    expect(message).toMatchObject({ type: 'text', text: 'Can I get more info about this?', timestamp: 1750275992 });
  });

  it('audio.json: media with id, mime type, base64 sha256 and voice', () => {
    const { message } = onlyMessage('audio');
    expect(message.type).toBe('audio');
    expect(message.media).toEqual({
      id: '1908647269898587',
      mimeType: 'audio/ogg; codecs=opus',
      sha256: 'wvqXMe6n7n1W0zphvLPoLj+s/NtKqmr3zZ7YzTP7xFI=',
      voice: true,
    });
    expect(Buffer.from(message.media!.sha256!, 'base64')).toHaveLength(32);
    expect(message.text).toBeUndefined();
  });

  it.each([
    ['image', { id: '1003383421387256', mimeType: 'image/jpeg', caption: 'Taj Mahal' }],
    ['video', { id: '731675419373506', mimeType: 'video/mp4', caption: 'Timelapse of growth' }],
    [
      'document',
      { id: '622684793477189', mimeType: 'application/pdf', caption: 'my receipt', filename: 'receipt.pdf' },
    ],
    ['sticker', { id: '1908647269898587', mimeType: 'image/webp' }],
  ])('%s.json: media, with the caption as text', (name, media) => {
    const { message } = onlyMessage(name);
    expect(message.type).toBe(name);
    expect(message.media).toMatchObject(media);
    expect(message.media!.sha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(message.text).toBe('caption' in media ? media.caption : undefined);
  });

  it('interactive_button_reply.json: the button id as replyId and its title as text', () => {
    const { message } = onlyMessage('interactive_button_reply');
    expect(message).toMatchObject({
      type: 'interactive',
      replyId: 'change-button',
      text: 'Change',
      contextId: 'wamid.HBgLMTY0NjcwNDM1OTUVAgARGBJBM0Y4RUU0RUNFQkFDMjYzQUMA',
      profileName: 'Pablo Morales',
    });
  });

  it('interactive_list_reply.json: the row id as replyId and its title as text', () => {
    const { message } = onlyMessage('interactive_list_reply');
    expect(message).toMatchObject({ type: 'interactive', replyId: 'priority_express', text: 'Priority Mail Express' });
  });

  it('button_quick_reply.json: the payload as replyId and the button text as text', () => {
    const { message } = onlyMessage('button_quick_reply');
    expect(message).toMatchObject({
      type: 'button',
      replyId: 'Unsubscribe',
      text: 'Unsubscribe',
      contextId: 'wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=',
    });
  });

  it('reaction.json: the message reacted to and the emoji', () => {
    const { message } = onlyMessage('reaction');
    expect(message.type).toBe('reaction');
    expect(message.reaction).toEqual({
      messageId: 'wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=',
      emoji: '👍',
    });
  });

  it('reaction_removed.json: a reaction without an emoji', () => {
    const { message } = onlyMessage('reaction_removed');
    expect(message.reaction).toBeDefined();
    expect(message.reaction!.messageId).toMatch(/^wamid\./);
    expect(message.reaction).not.toHaveProperty('emoji');
  });

  it('location.json: coordinates, name and address', () => {
    const { message } = onlyMessage('location');
    expect(message.location).toEqual({
      latitude: 37.44221496582,
      longitude: -122.16165924072,
      name: 'Philz Coffee',
      address: '101 Forest Ave, Palo Alto, CA 94301',
    });
  });

  it('contacts.json: a shared contact card is not mistaken for the sender contact', () => {
    const { message, waId: sender } = onlyMessage('contacts');
    expect(sender).toBe(waId);
    expect(message).toMatchObject({ type: 'contacts', from: waId, profileName: 'Sheena Nelson' });
  });

  it.each([
    ['system_user_changed_number', 'system'],
    ['unsupported', 'unsupported'],
  ])('%s.json: passes the message through with its type', (name, type) => {
    const delivery = onlyMessage(name);
    expect(delivery).toMatchObject({ phoneNumberId, waId, message: { type, from: waId } });
    expect(delivery.message.id).toMatch(/^wamid\./);
    expect(delivery.message.text).toBeUndefined();
    expect(delivery.message.media).toBeUndefined();
  });

  it('system_user_changed_number.json: no `contacts`, so no profileName', () => {
    const payload = loadFixture('system_user_changed_number') as { entry: { changes: { value: object }[] }[] };
    expect(payload.entry[0]!.changes[0]!.value).not.toHaveProperty('contacts');
    const { message } = onlyMessage('system_user_changed_number');
    expect(message).not.toHaveProperty('profileName');
  });

  it('a text message without `contacts` still yields the message, without profileName', () => {
    const payload = loadFixture('text') as { entry: { changes: { value: Record<string, unknown> }[] }[] };
    delete payload.entry[0]!.changes[0]!.value.contacts;
    const { messages } = extractDeliveries(webhookPayloadSchema.parse(payload));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.message).toMatchObject({ type: 'text', text: 'Does it come in another color?' });
    expect(messages[0]!.message).not.toHaveProperty('profileName');
  });

  it('status_sent.json / status_delivered.json: one status each', () => {
    for (const [name, status] of [
      ['status_sent', 'sent'],
      ['status_delivered', 'delivered'],
    ] as const) {
      const { messages, statuses } = deliveries(name);
      expect(messages).toEqual([]);
      expect(statuses).toHaveLength(1);
      expect(statuses[0]).toMatchObject({ phoneNumberId, waId, status: { status } });
      expect(statuses[0]!.status.messageId).toMatch(/^wamid\./);
      expect(statuses[0]!.status.timestamp).toBeGreaterThan(1_600_000_000);
      expect(statuses[0]!.status).not.toHaveProperty('errors');
    }
  });

  it('a status echoing biz_opaque_callback_data carries it as the key; a malformed one is ignored, not refused', () => {
    const payload = loadFixture('status_sent') as {
      entry: { changes: { value: { statuses: Record<string, unknown>[] } }[] }[];
    };
    const status = payload.entry[0]!.changes[0]!.value.statuses[0]!;
    status.biz_opaque_callback_data = 'wa:106540352242922:0123456789abcdef0123#3';
    expect(extractDeliveries(webhookPayloadSchema.parse(payload)).statuses[0]!.status.key).toBe(
      'wa:106540352242922:0123456789abcdef0123#3',
    );
    for (const odd of [42, '', 'x'.repeat(513)]) {
      status.biz_opaque_callback_data = odd;
      const { statuses } = extractDeliveries(webhookPayloadSchema.parse(payload));
      expect(statuses[0]!.status).not.toHaveProperty('key');
    }
  });

  it('status_failed.json: the status with its errors', () => {
    const { statuses } = deliveries('status_failed');
    expect(statuses).toEqual([
      {
        phoneNumberId,
        waId,
        status: {
          messageId: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA',
          status: 'failed',
          timestamp: 1751142888,
          errors: [
            {
              code: 131049,
              title: 'This message was not delivered to maintain healthy ecosystem engagement.',
            },
          ],
        },
      },
    ]);
  });

  it('status_read_group.json: a placeholder timestamp becomes 0', () => {
    const { statuses } = deliveries('status_read_group');
    expect(statuses).toEqual([
      {
        phoneNumberId: 'BUSINESS_PHONE_NUMBER_ID',
        waId: 'GROUP_ID',
        status: { messageId: 'WHATSAPP_MESSAGE_ID', status: 'read', timestamp: 0 },
      },
    ]);
  });

  it('statuses_multiple_group_aggregated.json: two statuses', () => {
    const { messages, statuses } = deliveries('statuses_multiple_group_aggregated');
    expect(messages).toEqual([]);
    expect(statuses).toHaveLength(2);
    for (const s of statuses) {
      expect(s).toEqual({
        phoneNumberId: 'BUSINESS_PHONE_NUMBER_ID',
        waId: 'GROUP_ID',
        status: { messageId: 'WHATSAPP_MESSAGE_ID', status: 'delivered', timestamp: 0 },
      });
    }
  });

  it('errors.json: no message and no status', () => {
    expect(deliveries('errors')).toEqual({ messages: [], statuses: [] });
  });

  it('every message fixture is addressed to the business number and the sender', () => {
    for (const name of fixtureNames()) {
      for (const delivery of deliveries(name).messages) {
        expect(delivery.phoneNumberId).toBe(phoneNumberId);
        expect(delivery.waId).toBe(delivery.message.from);
        expect(Number.isInteger(delivery.message.timestamp)).toBe(true);
      }
    }
  });

  it('a change without metadata (an account-level notification) yields nothing', () => {
    const payload = loadFixture('text') as { entry: { changes: { value: Record<string, unknown> }[] }[] };
    delete payload.entry[0]!.changes[0]!.value.metadata;
    expect(extractDeliveries(webhookPayloadSchema.parse(payload))).toEqual({ messages: [], statuses: [] });
  });

  it('collects messages and statuses across entries and changes', () => {
    const text = loadFixture('text') as { entry: { changes: unknown[] }[] };
    const failed = loadFixture('status_failed') as { entry: { changes: unknown[] }[] };
    const audio = loadFixture('audio') as { entry: { changes: unknown[] }[] };
    text.entry[0]!.changes.push(...failed.entry[0]!.changes);
    text.entry.push(...audio.entry);
    const { messages, statuses } = extractDeliveries(webhookPayloadSchema.parse(text));
    expect(messages.map((m) => m.message.type)).toEqual(['text', 'audio']);
    expect(statuses.map((s) => s.status.status)).toEqual(['failed']);
  });

  it('a numeric timestamp is accepted as well as a string one', () => {
    const payload = loadFixture('text') as {
      entry: { changes: { value: { messages: Record<string, unknown>[] } }[] }[];
    };
    payload.entry[0]!.changes[0]!.value.messages[0]!.timestamp = 1749416383;
    const { messages } = extractDeliveries(webhookPayloadSchema.parse(payload));
    expect(messages[0]!.message.timestamp).toBe(1749416383);
  });
});
