import type { Client } from '@temporalio/client';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import request from 'supertest';
import { parse } from 'yaml';
import { createApp } from '../../api/app';
import { createApiMetrics } from '../../api/metrics';
import { signBody } from '../../api/signature';
import { startPmsStandin, type PmsStandin } from '../../dev/pms-standin';
import { waitFor } from '../../dev/process';
import { projectRoot } from '../../dev/paths';
import { startWhatsAppStandin, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { serveMetrics } from '../../lib/metrics-server';
import { captureLogger, temporalClient, testConfig, testSecrets } from '../helpers/env';
import {
  declaredMetrics,
  parseScrape,
  removeCleanupSchedule,
  scrapeText,
  seriesSum,
  startWorkerProcess,
  type ProcessService,
} from '../helpers/processes';
import { createTestTenant, type TestTenant } from '../helpers/tenants';
import { textWebhook, uniqueWaId } from '../helpers/webhooks';

/**
 * Metrics from every process, as Prometheus would scrape them: the API's registry on its internal listener (never on
 * the public app), and a real worker process's /metrics, which carries our series and the Temporal SDK's own
 * (Runtime.install's Prometheus exporter, proxied). One conversation through the API, the worker and the stand-ins
 * moves them. The alert rules and the dashboard in deploy/ are checked with promtool and against those scrapes.
 */

const config = testConfig({ CONVERSATION_COUNT_INTERVAL_SECONDS: '1' });
const dir = mkdtempSync(path.join(os.tmpdir(), 'metrics-'));
const apiMetrics = createApiMetrics({ defaultMetrics: true });
let temporal: Client;
let db: Pool;
let whatsapp: WhatsAppStandin;
let pms: PmsStandin;
let tenant: TestTenant;
let worker: ProcessService | undefined;
let workerMetricsUrl: string;
let apiMetricsServer: http.Server;
let apiMetricsUrl: string;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  [whatsapp, pms] = await Promise.all([
    startWhatsAppStandin({ accessToken: testSecrets.WHATSAPP_ACCESS_TOKEN }),
    startPmsStandin({ webserviceKey: 'METRICSPMSKEY0123456789ABCDEFGHI' }),
  ]);
  temporal = await temporalClient(config);
  db = new Pool({ connectionString: config.databaseUrl, max: 2 });
  tenant = await createTestTenant(db);
  const started = await startWorkerProcess(config, dir, {
    WHATSAPP_GRAPH_BASE_URL: whatsapp.url,
    CONVERSATION_COUNT_INTERVAL_SECONDS: '1',
  });
  worker = started.worker;
  workerMetricsUrl = started.metricsUrl;
  app = createApp({ temporal, config, log: captureLogger().log, db, metrics: apiMetrics });
  apiMetricsServer = await serveMetrics(apiMetrics, { host: '127.0.0.1', port: 0 });
  apiMetricsUrl = `http://127.0.0.1:${(apiMetricsServer.address() as AddressInfo).port}/metrics`;
}, 90_000);

afterAll(async () => {
  await worker?.stop(15_000);
  await removeCleanupSchedule(temporal, config);
  await new Promise((resolve) => apiMetricsServer?.close(resolve));
  await temporal?.connection.close();
  await db?.end();
  await Promise.allSettled([whatsapp?.close(), pms?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

async function postWebhook(raw: string, signature: string) {
  return request(app.callback())
    .post('/webhooks/whatsapp')
    .set('content-type', 'application/json')
    .set('x-hub-signature-256', signature)
    .send(raw);
}

describe('the API', () => {
  it('does not serve /metrics on its public app: only the internal listener does', async () => {
    const res = await request(app.callback()).get('/metrics');
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('api_webhook_requests_total');
    expect(await scrapeText(apiMetricsUrl)).toContain('# TYPE api_webhook_requests_total counter');
  });
});

describe('one conversation', () => {
  it('moves the API series and the worker series, ours and the SDK’s', async () => {
    const apiBefore = parseScrape(await scrapeText(apiMetricsUrl));
    const workerBefore = parseScrape(await scrapeText(workerMetricsUrl));
    const guest = uniqueWaId();
    const raw = JSON.stringify(textWebhook({ phoneNumberId: tenant.phoneNumberId, from: guest, body: 'Hola' }));
    expect((await postWebhook(raw, signBody(raw, testSecrets.WHATSAPP_APP_SECRET))).status).toBe(200);
    expect((await postWebhook(raw, signBody(raw, 'not-the-app-secret'))).status).toBe(401);
    expect((await request(app.callback()).get('/admin/tenants/some-hotel')).status).toBe(401);
    await waitFor('the reply at the WhatsApp stand-in', () => whatsapp.sent.some((m) => m.to === guest), {
      timeoutMs: 30_000,
    });

    const api = parseScrape(await scrapeText(apiMetricsUrl));
    const delta = (name: string, labels: Record<string, string> = {}) =>
      seriesSum(api, name, labels) - seriesSum(apiBefore, name, labels);
    expect(delta('api_webhook_requests_total', { outcome: 'accepted', status: '200' })).toBe(1);
    expect(delta('api_webhook_requests_total', { outcome: 'refused', status: '401' })).toBe(1);
    expect(delta('api_webhook_signature_failures_total', { reason: 'invalid' })).toBe(1);
    expect(delta('api_request_duration_seconds_count', { route: '/webhooks/whatsapp', method: 'POST' })).toBe(2);
    // The route pattern, never the raw path (which would name the tenant).
    expect(delta('api_admin_requests_total', { route: '/admin/tenants/:id', status: '401' })).toBe(1);
    expect([...api.keys()].some((k) => k.includes('some-hotel'))).toBe(false);

    // The worker's series: the send activity and the reply, and the SDK's workflow-task and sticky-cache metrics.
    await waitFor(
      'the worker series to move',
      async () => {
        const after = parseScrape(await scrapeText(workerMetricsUrl));
        const moved = (name: string, labels: Record<string, string> = {}) =>
          seriesSum(after, name, labels) - seriesSum(workerBefore, name, labels);
        return (
          moved('activity_attempts_total', { activity: 'sendMessage', outcome: 'completed' }) >= 1 &&
          moved('activity_duration_seconds_count', { activity: 'resolveTenant' }) >= 1 &&
          moved('whatsapp_replies_total', { result: 'sent' }) >= 1 &&
          moved('temporal_workflow_task_schedule_to_start_latency_count') >= 1 &&
          seriesSum(after, 'conversations', { status: 'active' }) >= 1
        );
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const workerText = await scrapeText(workerMetricsUrl);
    expect(workerText).toMatch(/^temporal_sticky_cache_(hit|size)/m);
  });
});

describe('the worker process', () => {
  it('says on /health/ready that Temporal, Postgres and Redis answer and that it polls', async () => {
    const res = await fetch(workerMetricsUrl.replace('/metrics', '/health/ready'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      temporal: 'ok',
      postgres: 'ok',
      redis: 'ok',
      worker: 'polling',
    });
  });
});

describe('the alert rules and the dashboard in deploy/', () => {
  const rulesFile = path.join(projectRoot, 'deploy', 'alerts', 'hotel-messaging.yml');
  const promtool = (...args: string[]) => spawnSync('promtool', args, { cwd: projectRoot, encoding: 'utf8' });

  it('pass promtool check rules and their unit tests (promtool test rules)', () => {
    const checked = promtool('check', 'rules', rulesFile);
    expect(`${checked.stdout}${checked.stderr}`).toContain('SUCCESS');
    expect(checked.status).toBe(0);
    const tested = promtool('test', 'rules', path.join('test', 'alerts', 'hotel-messaging.test.yml'));
    expect(`${tested.stdout}${tested.stderr}`).toContain('SUCCESS');
    expect(tested.status).toBe(0);
  });

  it('alert on the breaker, schedule-to-start p95, failing replies and configuration failures', () => {
    const rules = (
      parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }
    ).groups.flatMap((g) => g.rules);
    const exprOf = (alert: string) => rules.find((r) => r.alert === alert)?.expr ?? '';
    expect(exprOf('PmsBreakerOpen')).toContain('pms_circuit_state');
    expect(exprOf('WorkflowTaskScheduleToStartSlow')).toMatch(/histogram_quantile\(0\.95,.*schedule_to_start/s);
    expect(exprOf('RepliesFailing')).toContain('whatsapp_replies_total{result="failed"}');
    expect(exprOf('ConfigFailures')).toContain('config_failures_total');
  });

  it('name only metrics that a real API or worker serves', async () => {
    const served = new Set([
      ...declaredMetrics(await scrapeText(apiMetricsUrl)),
      ...declaredMetrics(await scrapeText(workerMetricsUrl)),
    ]);
    const rules = parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: { expr: string }[] }[] };
    const dashboard = JSON.parse(
      readFileSync(path.join(projectRoot, 'deploy', 'grafana', 'dashboards', 'hotel-messaging.json'), 'utf8'),
    ) as { panels: { targets: { expr: string }[] }[] };
    const exprs = [
      ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ];
    const promqlWords = new Set(['sum', 'max', 'by', 'rate', 'increase', 'histogram_quantile', 'le', 'and', 'or']);
    const names = new Set(
      exprs.flatMap((expr) =>
        [...expr.replace(/\{[^}]*\}|\[[^\]]*\]/g, '').matchAll(/[a-z_][a-z0-9_]*/g)]
          .map((m) => m[0])
          .filter(
            (word) =>
              !promqlWords.has(word) &&
              !/^(origin|tenant|kind|status|result|reason|route|operation|outcome|activity)$/.test(word),
          ),
      ),
    );
    const missing = [...names].filter(
      (name) => !served.has(name) && !served.has(name.replace(/_(bucket|count|sum)$/, '')),
    );
    expect(names.size).toBeGreaterThan(10);
    // The SDK's exporter declares a counter only once it is first incremented: a sticky-cache miss or forced eviction
    // needs a restarted or overfull worker. Those names must then be the SDK's own (they are in its native module).
    const sdkOnFirstUse = ['temporal_sticky_cache_miss', 'temporal_sticky_cache_total_forced_eviction'];
    expect(missing.filter((name) => !sdkOnFirstUse.includes(name))).toEqual([]);
    const bridgeDir = path.dirname(require.resolve('@temporalio/core-bridge/package.json'));
    const native = readdirSync(bridgeDir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.node'))!;
    const binary = readFileSync(path.join(bridgeDir, native)).toString('latin1');
    for (const name of sdkOnFirstUse) expect(binary).toContain(name.replace(/^temporal_/, ''));
  });
});
