import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the WhatsApp Cloud API (Graph API) that speaks its wire protocol: the send
 * endpoint `POST /<version>/<phone_number_id>/messages` with bearer auth, Meta's success and error
 * bodies. It records what it received and can inject faults. For tests and the demo only.
 */

export interface SentMessage {
  id: string;
  phoneNumberId: string;
  to: string;
  type: string;
  text: string | undefined;
  replyTo: string | undefined;
  at: number;
}

export type Fault =
  /** Answer with this HTTP status and a Graph API error body. */
  | { kind: 'error'; status: number; code: number; message?: string; retryAfterSeconds?: number }
  /** Wait before answering normally. */
  | { kind: 'latency'; ms: number }
  /** Cut the connection without an answer. */
  | { kind: 'drop' };

export interface WhatsAppStandin {
  url: string;
  sent: SentMessage[];
  /** Every request to the send endpoint, including failed ones. */
  attempts: number;
  /** TCP connections accepted so far (shows whether clients reuse keep-alive connections). */
  connections: number;
  /** Queues faults: each of the next `times` send requests gets `fault` (default: once). */
  inject(fault: Fault, times?: number): void;
  /** Recipients that get Meta's permanent "message undeliverable" error (131026). */
  undeliverable: Set<string>;
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

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startWhatsAppStandin(options: {
  accessToken: string;
  port?: number;
  host?: string;
}): Promise<WhatsAppStandin> {
  const faults: Fault[] = [];
  let counter = 0;
  const standin: Omit<WhatsAppStandin, 'url' | 'close'> = {
    sent: [],
    attempts: 0,
    connections: 0,
    undeliverable: new Set(),
    inject(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    reset() {
      faults.length = 0;
      standin.sent.length = 0;
      standin.attempts = 0;
      standin.connections = 0;
      standin.undeliverable.clear();
    },
  };

  async function handleSend(req: IncomingMessage, res: ServerResponse, phoneNumberId: string) {
    standin.attempts++;
    const fault = faults.shift();
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'error') {
      const headers: Record<string, string> = fault.retryAfterSeconds
        ? { 'retry-after': String(fault.retryAfterSeconds) }
        : {};
      graphError(res, fault.status, fault.code, fault.message ?? `Injected error ${fault.code}`, headers);
      return;
    }
    if (req.headers.authorization !== `Bearer ${options.accessToken}`) {
      graphError(res, 401, 190, 'Invalid OAuth access token - Cannot parse access token');
      return;
    }
    let body: {
      messaging_product?: string;
      to?: string;
      type?: string;
      text?: { body?: string };
      context?: { message_id?: string };
    };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
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
    if (standin.undeliverable.has(body.to)) {
      graphError(res, 400, 131026, 'Message undeliverable');
      return;
    }
    const id = `wamid.standin.${Date.now().toString(36)}.${(++counter).toString(36)}`;
    standin.sent.push({
      id,
      phoneNumberId,
      to: body.to,
      type: body.type,
      text: body.text?.body,
      replyTo: body.context?.message_id,
      at: Date.now(),
    });
    json(res, 200, {
      messaging_product: 'whatsapp',
      contacts: [{ input: body.to, wa_id: body.to }],
      messages: [{ id }],
    });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const send = /^\/v\d+\.\d+\/([^/]+)\/messages$/.exec(url.pathname);
    const route = async () => {
      if (req.method === 'POST' && send) return handleSend(req, res, decodeURIComponent(send[1]!));
      // Control endpoints for the demo and for poking at it by hand; not part of Meta's protocol.
      if (req.method === 'GET' && url.pathname === '/_standin/messages') {
        const to = url.searchParams.get('to');
        return json(res, 200, { messages: standin.sent.filter((m) => !to || m.to === to), attempts: standin.attempts });
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
  return Object.assign(standin, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
