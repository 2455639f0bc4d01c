/**
 * `npm run demo [-- "your message"]`: plays a guest writing to the running system (`bash scripts/start.sh`).
 * Sends Meta-shaped, signed webhooks to the API and prints the replies the WhatsApp stand-in received.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { signBody } from '../api/signature';
import { demoPhoneNumberId } from '../lib/db/seed-demo';
import { devEnvFile } from './paths';
import { englishDate, inDays, spanishDate } from './dates';
import { waitFor } from './process';

const api = `http://localhost:${process.env.API_PORT ?? 3000}`;
const standin = `http://127.0.0.1:${process.env.DEV_WHATSAPP_PORT ?? 4010}`;
const phoneNumberId = demoPhoneNumberId;

/** The app secret to sign with: WHATSAPP_APP_SECRET (compose's demo profile), else the start command's. */
function appSecret(): string {
  if (process.env.WHATSAPP_APP_SECRET) return process.env.WHATSAPP_APP_SECRET;
  if (!existsSync(devEnvFile)) throw new Error('No .data/dev.env: start the system first with `bash scripts/start.sh`');
  const line = readFileSync(devEnvFile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('WHATSAPP_APP_SECRET='));
  if (!line) throw new Error('WHATSAPP_APP_SECRET missing from .data/dev.env');
  return line.slice('WHATSAPP_APP_SECRET='.length);
}

/** The shape of Meta's text message webhook, a voice note, or a tapped list row (`interactive.list_reply`). */
type DemoMessage =
  | { type: 'text'; text: { body: string } }
  | { type: 'audio'; audio: Record<string, unknown> }
  | { type: 'interactive'; interactive: { type: 'list_reply'; list_reply: { id: string; title: string } } };

/** What the WhatsApp stand-in recorded of a message: text, a list or buttons, or a template. */
interface DemoSent {
  kind: string;
  text?: string;
  interactive?: {
    type?: string;
    action?: {
      sections?: { rows?: { id?: string; title?: string; description?: string }[] }[];
      buttons?: { reply?: { title?: string } }[];
    };
  };
  template?: { name: string; parameters: string[] };
}

/** A sent message as the guest would see it: the text, then the list's rows or the buttons; or the template. */
function shown(message: DemoSent): string {
  if (message.template) return `[template ${message.template.name}: ${message.template.parameters.join(' | ')}]`;
  const rows = message.interactive?.action?.sections?.flatMap((s) => s.rows ?? []) ?? [];
  const buttons = message.interactive?.action?.buttons ?? [];
  return [
    message.text ?? '',
    ...rows.map((r) => `  ☐ ${r.title ?? ''} — ${r.description ?? ''}   (row id ${r.id ?? ''})`),
    ...(buttons.length > 0 ? [`  ${buttons.map((b) => `[${b.reply?.title ?? ''}]`).join(' ')}`] : []),
  ].join('\n');
}

function webhook(waId: string, name: string, content: DemoMessage) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              contacts: [{ profile: { name }, wa_id: waId }],
              messages: [
                {
                  from: waId,
                  id: `wamid.demo.${randomUUID()}`,
                  timestamp: String(Math.floor(Date.now() / 1000)),
                  ...content,
                },
              ],
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
}

async function converse(
  secret: string,
  waId: string,
  name: string,
  body: string,
  content: DemoMessage = { type: 'text', text: { body } },
): Promise<void> {
  const raw = JSON.stringify(webhook(waId, name, content));
  const before = await sentTo(waId);
  console.log(`\n${name} → hotel: ${body}`);
  const res = await fetch(`${api}/webhooks/whatsapp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(raw, secret) },
    body: raw,
  });
  console.log(`  webhook: HTTP ${res.status} ${await res.text()}`);
  if (!res.ok) throw new Error('The API did not accept the webhook');
  let replies: DemoSent[] = [];
  await waitFor(
    'the reply on the WhatsApp stand-in',
    async () => {
      replies = (await sentTo(waId)).slice(before.length);
      return replies.length > 0;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  for (const reply of replies) console.log(`hotel → ${name}: ${shown(reply)}`.replace(/\n/g, '\n    '));
}

/** Waits for (and prints) the next message to the guest that nobody asked for: a scheduled one. */
async function awaitScheduled(waId: string, name: string, after: number): Promise<void> {
  let next: DemoSent | undefined;
  await waitFor(
    'the scheduled message',
    async () => {
      next = (await sentTo(waId))[after];
      return next !== undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  console.log(`hotel → ${name} (scheduled): ${shown(next!)}`);
}

/** A guest taps a row of the list they were sent. */
const tap = (id: string, title: string): DemoMessage => ({
  type: 'interactive',
  interactive: { type: 'list_reply', list_reply: { id, title } },
});

async function sentTo(waId: string): Promise<DemoSent[]> {
  const res = await fetch(`${standin}/_standin/messages?to=${waId}`);
  // Read receipts are listed beside the messages (kind `read_typing`); the demo prints the messages.
  return ((await res.json()) as { messages: DemoSent[] }).messages.filter((m) => m.kind === 'message');
}

const es = spanishDate;
const en = englishDate;

async function main(): Promise<void> {
  const secret = appSecret();
  const custom = process.argv.slice(2).join(' ').trim();
  const suffix = String(Date.now()).slice(-6);
  if (custom) {
    await converse(secret, `3460000${suffix}`, 'Guest', custom);
  } else {
    // A Spanish guest books a room for two nights in two weeks.
    const lucia = `3460000${suffix}`;
    await converse(secret, lucia, 'Lucía', 'Hola, buenas tardes');
    await converse(
      secret,
      lucia,
      'Lucía',
      `¿Tienen habitación del ${es(inDays(14))} al ${es(inDays(16))} para 2 adultos?`,
    );
    // The demo hotel sends the offer as a list: Lucía taps the first room.
    await converse(secret, lucia, 'Lucía', '(toca «Standard Double»)', tap('choice:1', 'Standard Double'));
    // ...and sends a voice note, which the WhatsApp stand-in serves as Meta's media endpoints would.
    const voice = Buffer.concat([Buffer.from('OggS'), randomBytes(8_000)]);
    const mediaId = `demo-voice-${suffix}`;
    await fetch(`${standin}/_standin/media`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: mediaId, mimeType: 'audio/ogg; codecs=opus', base64: voice.toString('base64') }),
    });
    await converse(secret, lucia, 'Lucía', '🎤 (nota de voz)', {
      type: 'audio',
      audio: {
        id: mediaId,
        mime_type: 'audio/ogg; codecs=opus',
        sha256: createHash('sha256').update(voice).digest('base64'),
        voice: true,
      },
    });
    // An English guest books, asks about check-in and for a person.
    const sheena = `4477000${suffix}`;
    await converse(
      secret,
      sheena,
      'Sheena',
      `Hi! Do you have a room from ${en(inDays(21))} to ${en(inDays(24))} for 2 adults?`,
    );
    await converse(secret, sheena, 'Sheena', 'I will take the second one');
    await converse(secret, sheena, 'Sheena', 'What time is check-in?');
    await converse(secret, sheena, 'Sheena', 'Can I talk to a person at the front desk?');
    // A guest who books for tonight: the pre-arrival message (due 24 h before check-in) goes out at once.
    const ana = `4479000${suffix}`;
    await converse(secret, ana, 'Ana', `Hi, a room from ${en(inDays(0))} to ${en(inDays(2))} for 2 adults?`);
    await converse(secret, ana, 'Ana', '(taps "Standard Double")', tap('choice:1', 'Standard Double'));
    await awaitScheduled(ana, 'Ana', 2);
  }
  console.log(
    `\nSee the conversations and bookings in the Temporal Web UI: http://localhost:8233/namespaces/default/workflows`,
  );
  console.log(`Bookings at the PMS stand-in: http://127.0.0.1:${process.env.DEV_PMS_PORT ?? 4020}/_standin/bookings`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
