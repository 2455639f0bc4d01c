import { createHash, createHmac, randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { serverControls } from './process';

/**
 * A local stand-in for the WhatsApp Cloud API (Graph API) that speaks its wire protocol: the send
 * endpoint `POST /<version>/<phone_number_id>/messages` with bearer auth, Meta's success and error
 * bodies; and the two-step media download, `GET /<version>/<media-id>` (metadata with a short-lived URL)
 * then `GET <url>` (the file), both with bearer auth. It records what it received and can inject faults.
 * For tests and the demo only.
 */

export interface SentMessage {
  kind: 'message';
  id: string;
  phoneNumberId: string;
  to: string;
  type: string;
  /** The text's body, or an interactive message's body text. */
  text: string | undefined;
  replyTo: string | undefined;
  /** `biz_opaque_callback_data` as sent (the sender's idempotency key), echoed in the message's status webhooks. */
  key: string | undefined;
  at: number;
  /** Meta's `interactive` object of an interactive message, as received. */
  interactive?: StandinInteractive;
  /** A template message: its name, language code and body parameters. */
  template?: { name: string; language: string; parameters: string[] };
}

/** The parts of Meta's `interactive` object the stand-in checks and records. */
export interface StandinInteractive {
  type?: string;
  header?: { type?: string; text?: string };
  body?: { text?: string };
  footer?: { text?: string };
  action?: {
    button?: string;
    sections?: { title?: string; rows?: { id?: string; title?: string; description?: string }[] }[];
    buttons?: { type?: string; reply?: { id?: string; title?: string } }[];
  };
}

interface StandinTemplate {
  name?: string;
  language?: { code?: string };
  components?: { type?: string; parameters?: { type?: string; text?: string }[] }[];
}

const chars = (text: string | undefined) => Array.from(text ?? '').length;

/**
 * What Meta says (131009, "Parameter value is not valid", with these details) about an interactive message that breaks
 * its limits; undefined when it is within them. The list body is checked against the current page's 4096.
 */
function interactiveProblem(i: StandinInteractive): string | undefined {
  if (!i.body?.text) return 'body.text is required';
  if (chars(i.header?.text) > 60) return 'Header text length invalid. Max length: 60';
  if (chars(i.footer?.text) > 60) return 'Footer text length invalid. Max length: 60';
  if (i.type === 'list') {
    const rows = (i.action?.sections ?? []).flatMap((s) => s.rows ?? []);
    if (chars(i.body.text) > 4096) return 'Body text length invalid. Max length: 4096';
    if (!i.action?.button || chars(i.action.button) > 20)
      return 'Button text length invalid. Min length: 1, Max length: 20';
    if (rows.length === 0) return 'At least one row is required';
    if (rows.length > 10) return 'Total row count exceed max allowed count: 10';
    for (const row of rows) {
      if (!row.id || chars(row.id) > 200) return 'Row id length invalid. Min length: 1, Max length: 200';
      if (!row.title || chars(row.title) > 24) return 'Row title is too long. Max length is 24';
      if (chars(row.description) > 72) return 'Row description is too long. Max length is 72';
    }
    return undefined;
  }
  if (i.type === 'button') {
    const buttons = i.action?.buttons ?? [];
    if (chars(i.body.text) > 1024) return 'Body text length invalid. Max length: 1024';
    if (buttons.length === 0 || buttons.length > 3) return 'Buttons count invalid. Min: 1, Max: 3';
    const titles = new Set<string>();
    for (const b of buttons) {
      if (!b.reply?.id || chars(b.reply.id) > 256) return 'Button id length invalid. Min length: 1, Max length: 256';
      if (!b.reply.title || chars(b.reply.title) > 20)
        return 'Button title length invalid. Min length: 1, Max length: 20';
      if (titles.has(b.reply.title)) return 'Button title must be unique';
      titles.add(b.reply.title);
    }
    return undefined;
  }
  return `Unsupported interactive type ${String(i.type)}`;
}

/** A mark-as-read call (`status: "read"`), with the typing indicator (`read_typing`) or without (`read`). */
export interface ReadReceipt {
  kind: 'read_typing' | 'read';
  phoneNumberId: string;
  /** The guest's message it marks read. */
  messageId: string;
  at: number;
}

/**
 * Status webhooks as Meta sends them: for each accepted message `sent`, `delivered`, `read`, each a signed POST
 * (`X-Hub-Signature-256` over the raw body with the app secret) to the app's webhook URL, echoing
 * `biz_opaque_callback_data`. Off unless configured.
 */
export interface StatusWebhookSettings {
  /** The app's webhook, e.g. `http://127.0.0.1:3000/webhooks/whatsapp`. */
  url: string;
  appSecret: string;
  /** Wait before each status is posted (after the message was accepted, then between statuses). */
  delayMs?: number;
  /** The share of statuses never posted, 0..1 (1: every status is lost). */
  lossRate?: number;
  /** Which statuses are posted, in order; `sent`, `delivered`, `read` by default. */
  statuses?: string[];
}

/** What became of the status webhooks so far. */
export interface StatusWebhookCounts {
  /** Posts the webhook answered 200. */
  posted: number;
  /** Statuses dropped on purpose (`lossRate`). */
  lost: number;
  /** Posts refused or failed, retried (as Meta retries). */
  retried: number;
}

export type Fault =
  /** Answer with this HTTP status and a Graph API error body. */
  | { kind: 'error'; status: number; code: number; message?: string; retryAfterSeconds?: number }
  /** Wait before answering normally. */
  | { kind: 'latency'; ms: number }
  /** Cut the connection without an answer. */
  | { kind: 'drop' }
  /** Accept the message (it counts as sent) but answer 200 without a message id, as Meta occasionally does. */
  | { kind: 'acceptedWithoutId' }
  /**
   * Accept the message (it counts as sent, its statuses go out) and hold the answer: for `ms`, or until the client
   * hangs up (a worker killed mid-send).
   */
  | { kind: 'acceptThenHold'; ms?: number }
  /** Accept the message (it counts as sent, its statuses go out), then cut the connection without an answer. */
  | { kind: 'acceptThenDrop' };

/** Faults of one registered media file. */
export interface MediaFaults {
  /** The first N GETs of a media URL answer 404, as an expired URL does; a fresh metadata GET issues a new URL. */
  expiredUrl?: number;
  /** The first N metadata answers declare a wrong sha256 (`Infinity`: every one). */
  wrongSha256?: number;
  /** Downloads trickle: `chunkBytes` every `intervalMs`; only the first `times` downloads when given. */
  slowBody?: { chunkBytes: number; intervalMs: number; times?: number };
  /** Each download sends this many bytes more than declared, chunked, so no Content-Length gives it away. */
  extraBytes?: number;
  /** Metadata and file claim this MIME type instead of the registered one. */
  wrongMimeType?: string;
  /** The metadata's URL points at this origin (`http://host:port`) instead of the stand-in. */
  foreignUrl?: string;
}

export interface StandinMedia {
  /**
   * The file: its bytes, or a function that returns a fresh stream of them for each download, so a large
   * generated file (see {@link generatedBody}) never sits in memory.
   */
  body: Buffer | (() => Readable);
  mimeType: string;
  /** The declared `file_size`; the body's length by default. Required for a stream body. */
  fileSize?: number;
  /** The declared `sha256`, base64 as Meta sends it; computed from the body by default (a stream is read once). */
  sha256?: string;
  faults?: MediaFaults;
}

export interface MediaRequestCounts {
  /** `GET /<version>/<media-id>` requests. */
  metadata: number;
  /** `GET <media url>` requests. */
  file: number;
  /** File bytes written to clients (as handed to the socket). */
  bytesServed: number;
}

export interface WhatsAppStandin {
  url: string;
  sent: SentMessage[];
  /** Mark-as-read calls (with or without the typing indicator), in arrival order; not messages, so not in `sent`. */
  reads: ReadReceipt[];
  /** Every message request to the send endpoint, including failed ones (read receipts are not counted). */
  attempts: number;
  /** TCP connections accepted so far (shows whether clients reuse keep-alive connections). */
  connections: number;
  /** TCP connections open now (shows whether a client closed its pool). */
  openConnections(): Promise<number>;
  /** Queues faults: each of the next `times` send requests gets `fault` (default: once). */
  inject(fault: Fault, times?: number): void;
  /** Recipients that get Meta's permanent "message undeliverable" error (131026). */
  undeliverable: Set<string>;
  /**
   * Access tokens this stand-in accepts (the one it was started with, to begin with); any other gets Meta's
   * 401, code 190. Remove one to revoke it, add a tenant's own.
   */
  acceptedTokens: Set<string>;
  /**
   * Guests whose 24 h customer-service window is closed: a free-form message (not a template) to them gets Meta's
   * 131047 ("Re-engagement message").
   */
  windowClosed: Set<string>;
  /** Approved template names; a template not in it gets Meta's 132001 ("Template name does not exist"). */
  templates: Set<string>;
  /** Drops the queued send faults. */
  clearFaults(): void;
  /** Registers (or replaces) a media file under a media id. */
  addMedia(id: string, media: StandinMedia): void;
  /** Forgets a media id: its metadata then answers as Meta does for an id that does not exist. */
  removeMedia(id: string): void;
  /** Queues faults for the media metadata endpoint: each of the next `times` metadata requests gets `fault`. */
  injectMedia(fault: Fault, times?: number): void;
  media: MediaRequestCounts;
  /** Where status webhooks go, with what delay and loss; undefined: none are sent. Change it at any time. */
  statusWebhook: StatusWebhookSettings | undefined;
  statusCounts: StatusWebhookCounts;
  /** Resolves once every status webhook scheduled so far was posted or given up. */
  statusesSettled(): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

function graphError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(
    JSON.stringify({
      error: {
        message,
        type: 'OAuthException',
        code,
        error_data: { details: message },
        fbtrace_id: randomBytes(8).toString('hex'),
      },
    }),
  );
}

/** Plays a queued fault; true when it answered (or cut) the request, so the handler stops. */
async function applyFault(fault: Fault | undefined, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (fault?.kind === 'drop') {
    req.socket.destroy();
    return true;
  }
  if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, fault.ms));
  if (fault?.kind === 'error') {
    const headers: Record<string, string> = fault.retryAfterSeconds
      ? { 'retry-after': String(fault.retryAfterSeconds) }
      : {};
    graphError(res, fault.status, fault.code, fault.message ?? `Injected error ${fault.code}`, headers);
    return true;
  }
  return false;
}

/** The bearer token of a request, or '' without one. */
function bearer(req: IncomingMessage): string {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * A deterministic generated file of `size` bytes: one 64 KiB pseudo-random block, repeated, handed out without
 * copying. For media bodies far larger than what a test should hold in memory; the same size and seed always give
 * the same bytes.
 */
export function generatedBody(size: number, seed = 1): () => Readable {
  const blockSize = 64 * 1024;
  const block = Buffer.alloc(blockSize);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < blockSize; i += 4) {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    block.writeUInt32LE(x, i);
  }
  return () =>
    Readable.from(
      (function* () {
        // The block is never written to again, so every chunk can be the same buffer.
        for (let offset = 0; offset < size; offset += blockSize)
          yield block.subarray(0, Math.min(blockSize, size - offset));
      })(),
    );
}

/** The base64 sha256 of a media body, as Meta declares it. */
export async function mediaSha256(body: Buffer | (() => Readable)): Promise<string> {
  const hash = createHash('sha256');
  if (Buffer.isBuffer(body)) return hash.update(body).digest('base64');
  for await (const chunk of body()) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

interface MediaEntry {
  media: StandinMedia;
  fileSize: number;
  sha256: Promise<string> | undefined;
  /** Valid URL tokens and when each was issued. */
  urls: Map<string, number>;
  expiredServed: number;
  wrongShaServed: number;
  slowServed: number;
}

export async function startWhatsAppStandin(options: {
  accessToken: string;
  port?: number;
  host?: string;
  /** How long a media URL stays valid; Meta's live 5 minutes. */
  mediaUrlTtlMs?: number;
  /** Approved template names to begin with (the demo's). */
  templates?: readonly string[];
  /** How long an idle keep-alive connection is kept (Node's 5 s by default). */
  keepAliveTimeoutMs?: number;
  /** Called as each message is accepted, before the answer is written (the benchmark times replies by it). */
  onSent?: (message: SentMessage) => void;
  /** Status webhooks to the app (off unless given). */
  statusWebhook?: StatusWebhookSettings;
}): Promise<WhatsAppStandin> {
  const faults: Fault[] = [];
  const mediaFaults: Fault[] = [];
  const mediaFiles = new Map<string, MediaEntry>();
  const mediaUrlTtlMs = options.mediaUrlTtlMs ?? 5 * 60_000;
  let counter = 0;
  const inFlightStatuses = new Set<Promise<void>>();
  const standin: Omit<WhatsAppStandin, 'url' | 'close' | 'openConnections'> = {
    statusWebhook: options.statusWebhook,
    statusCounts: { posted: 0, lost: 0, retried: 0 },
    async statusesSettled() {
      while (inFlightStatuses.size > 0) await Promise.allSettled([...inFlightStatuses]);
    },
    sent: [],
    reads: [],
    attempts: 0,
    connections: 0,
    undeliverable: new Set(),
    windowClosed: new Set(),
    templates: new Set(options.templates),
    acceptedTokens: new Set([options.accessToken]),
    media: { metadata: 0, file: 0, bytesServed: 0 },
    clearFaults() {
      faults.length = 0;
    },
    inject(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    addMedia(id, media) {
      const fileSize = media.fileSize ?? (Buffer.isBuffer(media.body) ? media.body.length : undefined);
      if (fileSize === undefined) throw new Error('addMedia: a stream body needs fileSize');
      mediaFiles.set(id, {
        media,
        fileSize,
        sha256: media.sha256 !== undefined ? Promise.resolve(media.sha256) : undefined,
        urls: new Map(),
        expiredServed: 0,
        wrongShaServed: 0,
        slowServed: 0,
      });
    },
    removeMedia(id) {
      mediaFiles.delete(id);
    },
    injectMedia(fault, times = 1) {
      for (let i = 0; i < times; i++) mediaFaults.push(fault);
    },
    reset() {
      faults.length = 0;
      standin.sent.length = 0;
      standin.reads.length = 0;
      standin.attempts = 0;
      standin.connections = 0;
      standin.undeliverable.clear();
      standin.windowClosed.clear();
      standin.templates.clear();
      for (const name of options.templates ?? []) standin.templates.add(name);
      standin.acceptedTokens.clear();
      standin.acceptedTokens.add(options.accessToken);
      mediaFaults.length = 0;
      mediaFiles.clear();
      standin.media = { metadata: 0, file: 0, bytesServed: 0 };
      standin.statusCounts = { posted: 0, lost: 0, retried: 0 };
    },
  };

  /** Posts one status webhook, signed; retried like Meta retries a webhook that did not answer 200. */
  async function postStatus(settings: StatusWebhookSettings, sent: SentMessage, status: string): Promise<void> {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'standin-waba',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550000000', phone_number_id: sent.phoneNumberId },
                statuses: [
                  {
                    id: sent.id,
                    status,
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    recipient_id: sent.to,
                    ...(sent.key !== undefined ? { biz_opaque_callback_data: sent.key } : {}),
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    const signature = `sha256=${createHmac('sha256', settings.appSecret).update(body).digest('hex')}`;
    for (let attempt = 1; attempt <= 30; attempt++) {
      try {
        const res = await fetch(settings.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
          body,
        });
        await res.arrayBuffer();
        if (res.status === 200) {
          standin.statusCounts.posted++;
          return;
        }
      } catch {
        // The app is down: retried below.
      }
      standin.statusCounts.retried++;
      await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 5000)));
    }
  }

  /** The accepted message's statuses, one after another, each after the delay, some lost as configured. */
  function sendStatuses(sent: SentMessage): void {
    const settings = standin.statusWebhook;
    if (!settings) return;
    const run = (async () => {
      for (const status of settings.statuses ?? ['sent', 'delivered', 'read']) {
        await new Promise((r) => setTimeout(r, settings.delayMs ?? 0));
        if (Math.random() < (settings.lossRate ?? 0)) {
          standin.statusCounts.lost++;
          continue;
        }
        await postStatus(settings, sent, status);
      }
    })();
    inFlightStatuses.add(run);
    void run.finally(() => inFlightStatuses.delete(run));
  }
  let baseUrl = '';

  async function handleSend(req: IncomingMessage, res: ServerResponse, phoneNumberId: string) {
    let body: {
      messaging_product?: string;
      status?: string;
      message_id?: string;
      typing_indicator?: { type?: string };
      to?: string;
      type?: string;
      text?: { body?: string };
      context?: { message_id?: string };
      interactive?: StandinInteractive;
      template?: StandinTemplate;
      biz_opaque_callback_data?: string;
    };
    let parsed = true;
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      body = {};
      parsed = false;
    }
    // A read receipt is not a message: it is not a send attempt and takes no queued send fault.
    if (parsed && body.messaging_product === 'whatsapp' && body.status !== undefined) {
      if (!standin.acceptedTokens.has(bearer(req))) {
        graphError(res, 401, 190, 'Invalid OAuth access token - Cannot parse access token');
        return;
      }
      return markRead(res, phoneNumberId, body);
    }
    standin.attempts++;
    const fault = faults.shift();
    if (await applyFault(fault, req, res)) return;
    if (!standin.acceptedTokens.has(bearer(req))) {
      graphError(res, 401, 190, 'Invalid OAuth access token - Cannot parse access token');
      return;
    }
    if (!parsed) {
      graphError(res, 400, 100, 'Invalid parameter');
      return;
    }
    if (body.messaging_product !== 'whatsapp' || !body.to || !body.type) {
      graphError(res, 400, 131008, 'Required parameter is missing');
      return;
    }
    if (body.type === 'text' && !body.text?.body) {
      graphError(res, 400, 131008, 'Required parameter is missing: text.body');
      return;
    }
    if (body.type === 'interactive') {
      const problem = body.interactive ? interactiveProblem(body.interactive) : 'interactive is required';
      if (problem) {
        graphError(res, 400, 131009, problem);
        return;
      }
    }
    if (body.type === 'template') {
      if (!body.template?.name || !body.template.language?.code) {
        graphError(res, 400, 131008, 'Required parameter is missing: template.name or template.language');
        return;
      }
      if (!standin.templates.has(body.template.name)) {
        graphError(res, 404, 132001, 'Template name does not exist in the translation');
        return;
      }
    } else if (standin.windowClosed.has(body.to)) {
      graphError(
        res,
        400,
        131047,
        'Re-engagement message: more than 24 hours have passed since the recipient last replied to the sender number',
      );
      return;
    }
    if (standin.undeliverable.has(body.to)) {
      graphError(res, 400, 131026, 'Message undeliverable');
      return;
    }
    const id = `wamid.standin.${Date.now().toString(36)}.${(++counter).toString(36)}`;
    const sent: SentMessage = {
      kind: 'message',
      id,
      phoneNumberId,
      to: body.to,
      type: body.type,
      text: body.type === 'interactive' ? body.interactive?.body?.text : body.text?.body,
      replyTo: body.context?.message_id,
      key: body.biz_opaque_callback_data,
      at: Date.now(),
      ...(body.type === 'interactive' && body.interactive ? { interactive: body.interactive } : {}),
      ...(body.type === 'template' && body.template
        ? {
            template: {
              name: body.template.name ?? '',
              language: body.template.language?.code ?? '',
              parameters: (body.template.components ?? [])
                .filter((c) => c.type === 'body')
                .flatMap((c) => c.parameters ?? [])
                .map((p) => p.text ?? ''),
            },
          }
        : {}),
    };
    standin.sent.push(sent);
    options.onSent?.(sent);
    sendStatuses(sent);
    if (fault?.kind === 'acceptThenDrop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'acceptThenHold') {
      // Answered after `ms`, or never: a client that hangs up (a killed worker) closes the socket.
      if (fault.ms === undefined) return;
      await new Promise((r) => setTimeout(r, fault.ms));
      if (req.socket.destroyed) return;
    }
    if (fault?.kind === 'acceptedWithoutId') {
      json(res, 200, { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }] });
      return;
    }
    json(res, 200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: body.to, wa_id: body.to }],
      messages: [{ id }],
    });
  }

  /**
   * `status: "read"` for a guest's message, optionally with `typing_indicator: {type: "text"}`: Meta answers
   * `{"success": true}`, or 400 code 100 for a missing id or an indicator type other than `text`.
   */
  function markRead(
    res: ServerResponse,
    phoneNumberId: string,
    body: { status?: string; message_id?: string; typing_indicator?: { type?: string } },
  ) {
    if (body.status !== 'read' || !body.message_id) {
      graphError(res, 400, 100, 'Invalid parameter');
      return;
    }
    if (body.typing_indicator !== undefined && body.typing_indicator.type !== 'text') {
      graphError(res, 400, 100, 'Invalid parameter: typing_indicator.type');
      return;
    }
    standin.reads.push({
      kind: body.typing_indicator ? 'read_typing' : 'read',
      phoneNumberId,
      messageId: body.message_id,
      at: Date.now(),
    });
    json(res, 200, { success: true });
  }

  function authorized(req: IncomingMessage, res: ServerResponse): boolean {
    if (standin.acceptedTokens.has(bearer(req))) return true;
    graphError(res, 401, 190, 'Invalid OAuth access token - Cannot parse access token');
    return false;
  }

  /** `GET /<version>/<media-id>`: the media's metadata with a fresh URL valid for `mediaUrlTtlMs`. */
  async function handleMediaMetadata(req: IncomingMessage, res: ServerResponse, mediaId: string) {
    standin.media.metadata++;
    if (await applyFault(mediaFaults.shift(), req, res)) return;
    if (!authorized(req, res)) return;
    const entry = mediaFiles.get(mediaId);
    if (!entry) {
      // What Meta answers for an id that does not exist (or expired: media ids live 7 days).
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: {
            message: `Unsupported get request. Object with ID '${mediaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
            type: 'GraphMethodException',
            code: 100,
            error_subcode: 33,
            fbtrace_id: randomBytes(8).toString('hex'),
          },
        }),
      );
      return;
    }
    entry.sha256 ??= mediaSha256(entry.media.body);
    let sha256 = await entry.sha256;
    const { wrongSha256 = 0, wrongMimeType } = entry.media.faults ?? {};
    if (entry.wrongShaServed < wrongSha256) {
      entry.wrongShaServed++;
      sha256 = createHash('sha256').update(`not-${sha256}`).digest('base64');
    }
    const token = randomBytes(12).toString('hex');
    entry.urls.set(token, Date.now());
    // Served by this same server, at the address the client used to reach it.
    const origin = entry.media.faults?.foreignUrl ?? (req.headers.host ? `http://${req.headers.host}` : baseUrl);
    const fileUrl = `${origin}/whatsapp_business/attachments/?mid=${encodeURIComponent(mediaId)}&ext=${Date.now()}&hash=${token}`;
    json(res, 200, {
      messaging_product: 'whatsapp',
      url: fileUrl,
      mime_type: wrongMimeType ?? entry.media.mimeType,
      sha256,
      file_size: entry.fileSize,
      id: mediaId,
    });
  }

  /** `GET <media url>`: the file, with bearer auth; 404 once the URL expired. */
  async function handleMediaFile(req: IncomingMessage, res: ServerResponse, url: URL) {
    standin.media.file++;
    if (!authorized(req, res)) return;
    const entry = mediaFiles.get(url.searchParams.get('mid') ?? '');
    const token = url.searchParams.get('hash') ?? '';
    const issuedAt = entry?.urls.get(token);
    const faults = entry?.media.faults ?? {};
    if (!entry || issuedAt === undefined || Date.now() - issuedAt > mediaUrlTtlMs) {
      graphError(res, 404, 100, 'URL signature expired');
      return;
    }
    if (entry.expiredServed < (faults.expiredUrl ?? 0)) {
      entry.expiredServed++;
      entry.urls.delete(token);
      graphError(res, 404, 100, 'URL signature expired');
      return;
    }
    const slow = faults.slowBody && (faults.slowBody.times === undefined || entry.slowServed < faults.slowBody.times);
    if (slow) entry.slowServed++;
    const extraBytes = faults.extraBytes ?? 0;
    res.writeHead(200, {
      'content-type': faults.wrongMimeType ?? entry.media.mimeType,
      // A body longer than declared goes chunked: a Content-Length would give it away.
      ...(extraBytes > 0 ? {} : { 'content-length': String(entry.fileSize) }),
    });
    const body = entry.media.body;
    const source: AsyncIterable<Buffer> | Iterable<Buffer> = Buffer.isBuffer(body) ? [body] : body();
    const counts = standin.media;
    async function* chunks() {
      for await (const chunk of source) {
        if (!slow || !faults.slowBody) {
          counts.bytesServed += chunk.length;
          yield chunk;
          continue;
        }
        const { chunkBytes, intervalMs } = faults.slowBody;
        for (let offset = 0; offset < chunk.length; offset += chunkBytes) {
          const slice = chunk.subarray(offset, offset + chunkBytes);
          counts.bytesServed += slice.length;
          yield slice;
          await new Promise((r) => setTimeout(r, intervalMs));
        }
      }
      for (let left = extraBytes; left > 0; left -= 64 * 1024) {
        const extra = Buffer.alloc(Math.min(left, 64 * 1024), 0x5a);
        counts.bytesServed += extra.length;
        yield extra;
      }
    }
    // A client that hangs up mid-file (a killed worker, a refused oversized body) ends the stream; not an error here.
    await pipeline(Readable.from(chunks()), res).catch(() => undefined);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const send = /^\/v\d+\.\d+\/([^/]+)\/messages$/.exec(url.pathname);
    const mediaMetadata = /^\/v\d+\.\d+\/([^/]+)$/.exec(url.pathname);
    const route = async () => {
      if (req.method === 'POST' && send) return handleSend(req, res, decodeURIComponent(send[1]!));
      if (req.method === 'GET' && mediaMetadata)
        return handleMediaMetadata(req, res, decodeURIComponent(mediaMetadata[1]!));
      if (req.method === 'GET' && url.pathname === '/whatsapp_business/attachments/')
        return handleMediaFile(req, res, url);
      // Control endpoints for the demo and for poking at it by hand; not part of Meta's protocol.
      if (req.method === 'POST' && url.pathname === '/_standin/media') {
        const { id, mimeType, base64 } = JSON.parse(await readBody(req)) as {
          id: string;
          mimeType: string;
          base64: string;
        };
        standin.addMedia(id, { body: Buffer.from(base64, 'base64'), mimeType });
        return json(res, 200, { id });
      }
      if (req.method === 'GET' && url.pathname === '/_standin/messages') {
        // Messages and read receipts side by side, each with its kind, in arrival order. A receipt names no guest:
        // with `to`, it is listed when one of that guest's messages answered the message it marked read.
        const to = url.searchParams.get('to');
        const messages = standin.sent.filter((m) => !to || m.to === to);
        const answered = new Set(messages.map((m) => m.replyTo));
        const reads = standin.reads.filter((r) => !to || answered.has(r.messageId));
        const all = [...reads, ...messages].sort((a, b) => a.at - b.at);
        return json(res, 200, { messages: all, attempts: standin.attempts });
      }
      if (req.method === 'POST' && url.pathname === '/_standin/faults') {
        const { fault, times } = JSON.parse(await readBody(req)) as { fault: Fault; times?: number };
        standin.inject(fault, times);
        return json(res, 200, { queued: faults.length });
      }
      if (req.method === 'DELETE' && url.pathname === '/_standin/messages') {
        standin.reset();
        return json(res, 200, { reset: true });
      }
      return graphError(res, 404, 100, 'Unknown path components');
    };
    route().catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { message: String(err), code: 1 } });
    });
  });
  server.on('connection', () => standin.connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  return Object.assign(standin, {
    url: baseUrl,
    ...serverControls(server, { keepAliveTimeoutMs: options.keepAliveTimeoutMs }),
  });
}
