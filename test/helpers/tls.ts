import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

export interface TestPki {
  /** The CA that signed the server and client certificates. */
  caPath: string;
  /** Another CA, which signed nothing here: trusting it instead must fail. */
  otherCaPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** The DNS name in the server certificate (connect to 127.0.0.1 with this as the TLS server name). */
  serverName: string;
}

function openssl(dir: string, args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

/** A throwaway CA, a server certificate for `temporal.test` and a client certificate, made with the openssl CLI. */
export function createTestPki(dir: string): TestPki {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=${ca}`,
    ]);
  }
  const serverName = 'temporal.test';
  const leaves = [
    ['server', serverName, `subjectAltName=DNS:${serverName}\nextendedKeyUsage=serverAuth\n`],
    ['client', 'hotel-worker', 'extendedKeyUsage=clientAuth\n'],
  ] as const;
  for (const [name, cn, ext] of leaves) {
    writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl(dir, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      '-extfile',
      `${name}.ext`,
    ]);
  }
  const at = (file: string) => path.join(dir, file);
  return {
    caPath: at('ca.pem'),
    otherCaPath: at('other-ca.pem'),
    serverCertPath: at('server.pem'),
    serverKeyPath: at('server.key'),
    clientCertPath: at('client.pem'),
    clientKeyPath: at('client.key'),
    serverName,
  };
}

export interface TlsProxy {
  port: number;
  /** Connections that completed the TLS handshake with a client certificate the CA signed. */
  authorized: number;
  /** Handshakes refused (no client certificate, or one the CA did not sign). */
  refused: number;
  close(): Promise<void>;
}

/**
 * A TLS front for a plain gRPC server, as a load balancer or Temporal Cloud presents one: it offers the server
 * certificate, requires a client certificate signed by the CA (mTLS), speaks h2 (gRPC clients insist on ALPN), and
 * passes the bytes on to `upstream` (the dev server, which speaks only plain text).
 */
export async function startTlsProxy(pki: TestPki, upstream: { host: string; port: number }): Promise<TlsProxy> {
  const sockets = new Set<net.Socket>();
  const proxy = {
    authorized: 0,
    refused: 0,
  };
  const server = tls.createServer(
    {
      key: readFileSync(pki.serverKeyPath),
      cert: readFileSync(pki.serverCertPath),
      ca: readFileSync(pki.caPath),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      proxy.authorized++;
      const backend = net.connect(upstream.port, upstream.host);
      sockets.add(socket).add(backend);
      const end = () => {
        socket.destroy();
        backend.destroy();
      };
      socket.on('error', end).on('close', end);
      backend.on('error', end).on('close', end);
      socket.pipe(backend).pipe(socket);
    },
  );
  server.on('tlsClientError', () => proxy.refused++);
  server.on('connection', (socket: net.Socket) => sockets.add(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return Object.assign(proxy, {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  });
}
