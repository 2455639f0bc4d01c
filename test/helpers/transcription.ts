import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serverControls } from '../../dev/process';

export interface TranscriptionStandin {
  url: string;
  /** TCP connections open now. */
  openConnections(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A small OpenAI-compatible transcription server: a recording whose bytes carry `SAY:<words>|` is transcribed to
 * those words; any other is heard as silence (empty text).
 */
export async function startTranscriptionStandin(
  options: { keepAliveTimeoutMs?: number } = {},
): Promise<TranscriptionStandin> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const said = /SAY:([^|]*)\|/.exec(Buffer.concat(chunks).toString('latin1'));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: said?.[1] ?? '' }));
    });
  });
  const controls = serverControls(server, options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ...controls };
}
