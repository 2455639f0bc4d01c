import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { projectRoot } from '../../dev/paths';
import { searchAttributeDefinitions } from '../../lib/domain/search-attributes';
import { hostEnv, loadCompose, shellScriptOf } from '../helpers/compose';
import { temporalClient, testConfig, testEnv } from '../helpers/env';

/**
 * docker-compose.yml's one-shot `temporal-setup` job, run for real: its shell script, taken from the file, with the
 * temporal CLI, against the run's Temporal server. It must create the namespace with its retention and register every
 * search attribute the workflows set, and a second run (every `docker compose up`) must succeed and change nothing.
 */

const namespace = `compose-${randomUUID().slice(0, 8)}`;

function runSetupJob(): Promise<{ code: number | null; output: string }> {
  const job = loadCompose(hostEnv).services['temporal-setup']!;
  const env = job.environment as Record<string, string>;
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', shellScriptOf(job)], {
      env: {
        // The admin-tools image has the temporal CLI on PATH; here it is the one temporal/install-cli.sh installed.
        PATH: `${path.join(projectRoot, '.data', 'bin')}:${process.env.PATH ?? ''}`,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: testEnv().temporalAddress,
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_RETENTION: env.TEMPORAL_RETENTION!,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

it('creates the namespace and its search attributes, and succeeds again when run a second time', async () => {
  const first = await runSetupJob();
  expect(first).toMatchObject({ code: 0 });
  expect(first.output).toContain(`namespace ${namespace} done`);
  for (const name of Object.keys(searchAttributeDefinitions))
    expect(first.output).toContain(`search attribute ${name} done`);

  const temporal = await temporalClient(testConfig());
  try {
    const { namespaceInfo, config } = await temporal.workflowService.describeNamespace({ namespace });
    expect(namespaceInfo?.name).toBe(namespace);
    expect(Number(config?.workflowExecutionRetentionTtl?.seconds)).toBe(168 * 3600);
    const { customAttributes } = await temporal.connection.operatorService.listSearchAttributes({ namespace });
    for (const name of Object.keys(searchAttributeDefinitions)) {
      // INDEXED_VALUE_TYPE_KEYWORD
      expect([name, customAttributes?.[name]]).toEqual([name, 2]);
    }
  } finally {
    await temporal.connection.close();
  }

  const second = await runSetupJob();
  expect(second).toMatchObject({ code: 0 });
  expect(second.output).toContain(`namespace ${namespace} already there`);
  for (const name of Object.keys(searchAttributeDefinitions)) {
    expect(second.output).toMatch(new RegExp(`search attribute ${name} (already there|done)`));
  }
}, 120_000);
