import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { npmRunTemporal } from '../helpers/cli';
import { temporalClient, testConfig, testEnv } from '../helpers/env';

/**
 * `npm run temporal -- …` is the one documented way to run the README's operator commands: the CLI that
 * temporal/install-cli.sh installed, with --address and --namespace (and a codec server) taken from the same
 * configuration as the API's and the worker's.
 */

const home = mkdtempSync(path.join(os.tmpdir(), 'temporal-cli-'));
const address = testEnv().temporalAddress;
let temporal: Client;

beforeAll(async () => {
  temporal = await temporalClient(testConfig());
});

afterAll(async () => {
  await temporal?.connection.close();
  rmSync(home, { recursive: true, force: true });
});

describe('npm run temporal', () => {
  it('runs the installed CLI', async () => {
    const result = await npmRunTemporal(['--version'], {}, { home });
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/^temporal version \S+ \(Server [\d.]+, UI [\d.]+\)$/m);
  });

  it('talks to the cluster the configuration names: TEMPORAL_ADDRESS, or a profile file', async () => {
    const health = await npmRunTemporal(['operator', 'cluster', 'health'], { TEMPORAL_ADDRESS: address }, { home });
    expect(health).toMatchObject({ code: 0 });
    expect(health.stdout).toMatch(/SERVING/);

    const profile = path.join(home, 'temporal.toml');
    writeFileSync(profile, `[profile.default]\naddress = "${address}"\n`);
    const fromProfile = await npmRunTemporal(
      ['operator', 'cluster', 'health'],
      { TEMPORAL_CONFIG_FILE: profile },
      { home },
    );
    expect(fromProfile.stdout).toMatch(/SERVING/);
  });

  it('uses the configured namespace unless --namespace is given', async () => {
    const missing = await npmRunTemporal(
      ['workflow', 'list', '--limit', '1'],
      { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'no-such-namespace' },
      { home },
    );
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no-such-namespace/);
    const overridden = await npmRunTemporal(
      ['workflow', 'list', '--limit', '1', '--namespace', 'default'],
      { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'no-such-namespace' },
      { home },
    );
    expect(overridden).toMatchObject({ code: 0 });
  });

  it('hands the codec server and its authorization to the CLI (TEMPORAL_CODEC_ENDPOINT, TEMPORAL_CODEC_AUTH)', async () => {
    const seen: { path: string | undefined; authorization: string | undefined; namespace: string | undefined }[] = [];
    // A codec server that decodes nothing (it returns the payloads as sent) and records who asked.
    const codec = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          path: req.url,
          authorization: req.headers.authorization,
          namespace: req.headers['x-namespace'] as string | undefined,
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => codec.listen(0, '127.0.0.1', resolve));
    const workflowId = `cli-codec-${randomUUID()}`;
    // A workflow nobody runs, with a payload in its history for the CLI to decode.
    const handle = await temporal.workflow.start('cliCodecProbe', {
      taskQueue: `nobody-${randomUUID()}`,
      workflowId,
      args: [{ probe: true }],
    });
    try {
      const result = await npmRunTemporal(
        ['workflow', 'show', '--workflow-id', workflowId],
        {
          TEMPORAL_ADDRESS: address,
          TEMPORAL_CODEC_ENDPOINT: `http://127.0.0.1:${(codec.address() as AddressInfo).port}/codec`,
          TEMPORAL_CODEC_AUTH: 'Bearer hm_probe_token',
        },
        { home },
      );
      expect(result).toMatchObject({ code: 0 });
      expect(seen).toContainEqual({
        path: '/codec/decode',
        authorization: 'Bearer hm_probe_token',
        namespace: 'default',
      });
    } finally {
      await handle.terminate('test over');
      await new Promise((resolve) => codec.close(resolve));
    }
  });

  it('refuses a bad configuration with exit code 2 and the variable named, without running the CLI', async () => {
    const result = await npmRunTemporal(
      ['operator', 'cluster', 'health'],
      { TEMPORAL_ADDRESS: address, TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(home, 'missing.pem') },
      { home },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read');
    expect(result.stdout).toBe('');
  });
});
