import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRuleBasedUnderstander } from '../lib/domain/understanding';
import { serverControls } from './process';

/**
 * A local stand-in for an OpenAI-compatible chat-completions service (`POST /v1/chat/completions`), for the optional
 * language-model understander: it "understands" the last user message with the rules and answers the
 * `Understanding` as the JSON content of a chat completion. Its mode injects the failures a model service has: slow
 * answers, 500s, content that is not JSON, JSON of the wrong shape. It records every request it got.
 * For tests, the demo and the fallback measurement only.
 */
export type NluStandinMode =
  | { kind: 'ok' }
  | { kind: 'slow'; ms: number }
  | { kind: 'error'; status: number }
  | { kind: 'invalidJson' }
  | { kind: 'wrongShape' };

export interface NluStandin {
  url: string;
  mode: NluStandinMode;
  /** The request bodies received, parsed. */
  requests: { model?: string; messages?: { role: string; content: string }[]; authorization?: string }[];
  reset(): void;
  close(): Promise<void>;
}

const rules = createRuleBasedUnderstander();

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function completion(res: ServerResponse, content: string) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: `chatcmpl-standin-${Date.now()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: 'standin',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    }),
  );
}

export async function startNluStandin(options: { port?: number; host?: string } = {}): Promise<NluStandin> {
  const standin: Omit<NluStandin, 'url' | 'close'> = {
    mode: { kind: 'ok' },
    requests: [],
    reset() {
      standin.mode = { kind: 'ok' };
      standin.requests.length = 0;
    },
  };
  const server = http.createServer((req, res) => {
    const handle = async () => {
      if (req.method === 'POST' && req.url === '/_standin/mode') {
        standin.mode = JSON.parse(await readBody(req)) as NluStandinMode;
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(standin.mode));
      }
      if (req.method !== 'POST' || !/\/v1\/chat\/completions$/.test(req.url ?? '')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'not found' } }));
      }
      const body = JSON.parse(await readBody(req)) as NluStandin['requests'][number];
      standin.requests.push({
        ...body,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      });
      const mode = standin.mode;
      if (mode.kind === 'slow') await new Promise((r) => setTimeout(r, mode.ms));
      if (mode.kind === 'error') {
        res.writeHead(mode.status, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } }));
      }
      if (mode.kind === 'invalidJson') return completion(res, 'Sure! The guest wants a room.');
      if (mode.kind === 'wrongShape') return completion(res, JSON.stringify({ intent: 'dance', mood: 'happy' }));
      const last = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
      const understanding = await rules.understand({
        text: last?.content ?? '',
        locale: 'en',
        timezone: 'UTC',
        messageTimestamp: Math.floor(Date.now() / 1000),
        maxStayNights: 30,
      });
      return completion(res, JSON.stringify(understanding));
    };
    handle().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(err) } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(standin, { url: `http://127.0.0.1:${port}`, ...serverControls(server, {}) });
}
