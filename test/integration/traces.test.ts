import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '../../dev/process';
import { createTracing, disabledTracing, tracingFromConfig, type Tracing } from '../../lib/tracing';
import { startStack, type Stack } from '../helpers/stack';
import { conversationIdFor, postSigned, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';

/**
 * One trace from the webhook to the reply: the API's server span, the Temporal client's signalWithStart, the
 * workflow's spans (exported through the worker's sink), each activity, and the Graph send, with real API, worker and
 * WhatsApp stand-in, the spans caught by an in-process exporter.
 */

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let stack: Stack;
let phoneNumberId: string;

beforeAll(async () => {
  tracing = createTracing({ spanProcessor: new SimpleSpanProcessor(exporter), serviceName: 'traces-test' });
  // A short idle period, so the run ends (its span with it) soon after the reply, yet outlives a prompt second message.
  stack = await startStack({ tracing, config: { CONVERSATION_IDLE_TIMEOUT_SECONDS: '4' } });
  ({ phoneNumberId } = await stack.tenant({ locale: 'en' }));
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await tracing?.shutdown();
});

const spans = () => exporter.getFinishedSpans();

/** The one finished span named `name` whose parent is `parent` (or the only root one). */
function childOf(parent: ReadableSpan | undefined, name: string): ReadableSpan {
  const found = spans().filter((s) => s.name === name && s.parentSpanId === parent?.spanContext().spanId);
  expect({ name, found: found.length }).toEqual({ name, found: 1 });
  return found[0]!;
}

describe('a trace for one message', () => {
  it('chains the webhook, signalWithStart, the workflow, its activities and the Graph send in one trace', async () => {
    const from = uniqueWaId();
    const id = uniqueMessageId();
    const body = 'Hello, greetings from Marguerite';
    const workflowId = conversationIdFor(phoneNumberId, from);
    await postSigned(stack.app, textWebhook({ phoneNumberId, from, id, body }));
    await waitFor('the reply', () => stack.whatsapp.sent.some((m) => m.to === from));
    // A span is exported when it ends: the workflow's StartActivity when a later task sees the activity's result, the
    // run's when the run ends (continued as new into its dormant run once idle).
    const ended = (name: string) => spans().some((s) => s.name === name);
    await waitFor('the spans to end', () => ended('StartActivity:sendMessage') && ended('RunWorkflow:conversation'), {
      timeoutMs: 20_000,
    });

    const server = childOf(undefined, 'POST /webhooks/whatsapp');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.attributes['http.response.status_code']).toBe(200);
    const signalWithStart = childOf(server, 'SignalWithStartWorkflow:conversation');
    expect(signalWithStart.attributes.temporalWorkflowId).toBe(workflowId);
    // The run and the message's signal both hang off the client's call; the message is handled in its signal's trace.
    const run = childOf(signalWithStart, 'RunWorkflow:conversation');
    expect(run.attributes.workflowId).toBe(workflowId);
    const handleSignal = childOf(signalWithStart, 'HandleSignal:inboundMessage');
    const scheduled = childOf(handleSignal, 'StartActivity:sendMessage');
    const executed = childOf(scheduled, 'RunActivity:sendMessage');
    expect(executed.attributes.temporalWorkflowId).toBe(workflowId);
    const graph = childOf(executed, 'POST graph messages');
    expect(graph.kind).toBe(SpanKind.CLIENT);
    expect(graph.attributes['http.response.status_code']).toBe(200);
    expect(graph.attributes['url.template']).toBe('/{version}/{phone-number-id}/messages');

    // Every activity the conversation ran is in the same trace, each under the workflow's span that scheduled it.
    const traceId = server.spanContext().traceId;
    const activities = spans().filter(
      (s) => s.attributes.temporalWorkflowId === workflowId && s.name.startsWith('Run'),
    );
    expect(activities.map((s) => s.name)).toEqual(expect.arrayContaining(['RunActivity:sendMessage']));
    for (const activity of activities) {
      expect(activity.spanContext().traceId).toBe(traceId);
      const parent = spans().find((s) => s.spanContext().spanId === activity.parentSpanId);
      expect(parent?.name).toBe(activity.name.replace('RunActivity', 'StartActivity'));
    }
    const chain = [server, signalWithStart, run, handleSignal, scheduled, executed, graph];
    expect(new Set(chain.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));

    // No span carries the guest's number or words: names, attributes and events (the workflow id is a keyed ref).
    const exported = JSON.stringify(
      spans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })),
    );
    expect(exported).not.toContain(from);
    expect(exported).not.toContain(from.slice(-9));
    for (const word of ['greetings', 'Marguerite']) expect(exported).not.toContain(word);
    expect(exported).not.toContain(id);
  });
});

describe('a later message of the same run', () => {
  it('is handled, down to its Graph send, in the trace of the webhook that delivered it', async () => {
    const from = uniqueWaId();
    const workflowId = conversationIdFor(phoneNumberId, from);
    const repliesTo = () => stack.whatsapp.sent.filter((m) => m.to === from).length;
    await postSigned(stack.app, textWebhook({ phoneNumberId, from, body: 'Hello' }));
    await waitFor('the first reply', () => repliesTo() === 1);
    await postSigned(stack.app, textWebhook({ phoneNumberId, from, body: 'Hello again' }));
    await waitFor('the second reply', () => repliesTo() === 2);

    const byId = (spanId: string | undefined) => spans().find((s) => s.spanContext().spanId === spanId);
    const signals = () =>
      spans().filter((s) => s.name === 'HandleSignal:inboundMessage' && s.attributes.workflowId === workflowId);
    const sends = () => spans().filter((s) => s.name === 'StartActivity:sendMessage' && byId(s.parentSpanId));
    await waitFor(
      'both sends ended',
      () =>
        signals().every((signal) => sends().some((s) => s.parentSpanId === signal.spanContext().spanId)) &&
        signals().length === 2,
    );
    expect(new Set(signals().map((s) => s.attributes.runId)).size).toBe(1);
    const traces = signals().map((signal) => {
      // Each message's signal is under its own webhook's server span (through its signalWithStart)…
      const signalWithStart = byId(signal.parentSpanId)!;
      expect(signalWithStart.name).toBe('SignalWithStartWorkflow:conversation');
      expect(byId(signalWithStart.parentSpanId)?.name).toBe('POST /webhooks/whatsapp');
      // …and so is its reply, down to the Graph call.
      const send = sends().find((s) => s.parentSpanId === signal.spanContext().spanId)!;
      const executed = spans().find((s) => s.parentSpanId === send.spanContext().spanId)!;
      expect(executed.name).toBe('RunActivity:sendMessage');
      const graph = spans().find((s) => s.parentSpanId === executed.spanContext().spanId);
      expect(graph?.name).toBe('POST graph messages');
      return signal.spanContext().traceId;
    });
    expect(new Set(traces).size).toBe(2);
  });
});

describe('export', () => {
  it('sends spans to OTEL_EXPORTER_OTLP_ENDPOINT over OTLP/HTTP', async () => {
    const received: { url: string | undefined; type: string | undefined }[] = [];
    const collector = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push({ url: req.url, type: req.headers['content-type'] });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
      const exporting = tracingFromConfig({ otlpEndpoint: endpoint, serviceName: undefined }, 'api');
      expect(exporting.enabled).toBe(true);
      exporting.tracer.startSpan('one').end();
      await exporting.shutdown();
      expect(received).toEqual([{ url: '/v1/traces', type: 'application/json' }]);
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });

  it('records nothing and installs no interceptor without an endpoint', () => {
    const none = tracingFromConfig({ otlpEndpoint: undefined, serviceName: undefined }, 'worker');
    expect(none.enabled).toBe(false);
    expect(none.clientInterceptors).toEqual([]);
    expect(none.activityInterceptors).toEqual([]);
    expect(none.tracer.startSpan('nothing').isRecording()).toBe(false);
    expect(disabledTracing().enabled).toBe(false);
  });
});
