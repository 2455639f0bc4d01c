import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getFreePort, waitFor } from '../../dev/process';
import { startTemporalDevServer, type DevServer } from '../../temporal/dev-server';
import { isLoopback, listeningSocketsOf } from '../helpers/sockets';

/**
 * The development Temporal server's Web UI has no login and lets anyone signal, cancel or terminate a
 * conversation, so the launcher (`bash scripts/start.sh` uses it) binds it, like the server itself, to
 * loopback. The kernel's socket table says where the process listens; no other address is contacted.
 */
let server: DevServer;
let dir: string;
let uiPort: number;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hm-devserver-'));
  uiPort = await getFreePort();
  server = await startTemporalDevServer({ uiPort, logDir: dir });
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('serves the Web UI on 127.0.0.1, and listens on no address but loopback', async () => {
  const pid = server.service.child.pid!;
  // The launcher resolves once gRPC answers; the UI may come up a moment later.
  await waitFor(`the Web UI on 127.0.0.1:${uiPort}`, async () => (await fetch(`http://127.0.0.1:${uiPort}/`)).ok, {
    timeoutMs: 20_000,
  });
  const sockets = listeningSocketsOf(pid);
  // gRPC, the UI and the server's own HTTP and metrics ports.
  expect(sockets.map((s) => s.port)).toEqual(expect.arrayContaining([Number(server.address.split(':')[1]), uiPort]));
  expect(sockets.filter((s) => !isLoopback(s.address)).map((s) => `${s.address}:${s.port}`)).toEqual([]);
  expect(sockets.filter((s) => s.port === uiPort).map((s) => s.address)).toEqual(['127.0.0.1']);
  expect(server.uiUrl).toBe(`http://localhost:${uiPort}`);
});
