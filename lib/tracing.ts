import { context, propagation, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';

/**
 * The Temporal header the trace context travels in (the interceptors' `TRACE_HEADER`): W3C `traceparent` (and
 * `tracestate`) only, trace and span ids, never guest data. Headers are not encrypted by the payload codec.
 */
export const traceHeader = '_tracer-data';

/** The tracing settings `lib/config.ts` parses (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`). */
export interface TracingConfig {
  /** The collector's OTLP/HTTP base URL; spans go to `<endpoint>/v1/traces`. Unset: no tracing at all. */
  otlpEndpoint: string | undefined;
  /** `service.name` of this process's spans; the process's role (`hotel-messaging-api`, `…-worker`) by default. */
  serviceName: string | undefined;
}

/** One process's tracing: what the API, the Temporal client and the worker are built with. */
export interface Tracing {
  /** False when no exporter is configured: no span is recorded and no interceptor is installed. */
  enabled: boolean;
  /** Our own spans (the webhook's server span, the Graph send); a no-op tracer when disabled. */
  tracer: Tracer;
  /** The Temporal client's interceptors (`interceptors.workflow`): a span per call, its context in the header. */
  clientInterceptors: WorkflowClientInterceptor[];
  /** The worker's activity interceptors: each activity in a span, child of the workflow's `StartActivity` span. */
  activityInterceptors: ActivityInterceptorsFactory[];
  /**
   * The worker's `exporter` sink, through which the workflow interceptors (bundled with the workflows) hand over their
   * spans. Always registered, since every bundle has those interceptors; disabled, it drops them.
   */
  workflowSinks: InjectedSinks<OpenTelemetrySinks>;
  /** Flushes the spans still buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

let globalsRegistered = false;

/**
 * The process-wide parts OpenTelemetry has no other way to receive: the active-span context (an AsyncLocalStorage)
 * and the W3C propagator the interceptors inject into and extract from the Temporal header. Once per process.
 */
function registerGlobals(): void {
  if (globalsRegistered) return;
  globalsRegistered = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

/**
 * The workflow info the workflow spans are given as attributes. The SDK's exporter would copy all of `WorkflowInfo`
 * (search attributes, memo, last failure); only these identifiers leave the worker.
 */
function spanWorkflowInfo(info: WorkflowInfo): WorkflowInfo {
  const kept = {
    workflowId: info.workflowId,
    runId: info.runId,
    workflowType: info.workflowType,
    taskQueue: info.taskQueue,
    namespace: info.namespace,
    attempt: info.attempt,
  };
  return kept as unknown as WorkflowInfo;
}

/** Tracing that records nothing: no exporter, no interceptor, a no-op tracer. */
export function disabledTracing(): Tracing {
  return {
    enabled: false,
    // No provider is ever registered globally, so this is the API's no-op tracer.
    tracer: trace.getTracer('hotel-messaging'),
    clientInterceptors: [],
    activityInterceptors: [],
    workflowSinks: { exporter: { export: { fn: () => undefined, callDuringReplay: false } } },
    shutdown: () => Promise.resolve(),
  };
}

/**
 * Tracing whose spans go to `spanProcessor` (a batch OTLP exporter in production, an in-memory one in tests): our
 * tracer, the Temporal client's and activities' interceptors, and the sink for the workflow interceptors' spans.
 */
export function createTracing({
  spanProcessor,
  serviceName,
}: {
  spanProcessor: SpanProcessor;
  serviceName: string;
}): Tracing {
  registerGlobals();
  const resource = new Resource({ 'service.name': serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  const tracer = provider.getTracer('hotel-messaging');
  const exporter = makeWorkflowExporter(spanProcessor, resource).export;
  return {
    enabled: true,
    tracer,
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor({ tracer })],
    activityInterceptors: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    workflowSinks: {
      exporter: {
        export: {
          fn: (info, spans) => exporter.fn(spanWorkflowInfo(info), spans),
          // A replayed task's spans were exported when it first ran.
          callDuringReplay: false,
        },
      },
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The process's tracing as configured: OTLP over HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, none otherwise. */
export function tracingFromConfig(config: TracingConfig, role: 'api' | 'worker'): Tracing {
  if (!config.otlpEndpoint) return disabledTracing();
  const exporter = new OTLPTraceExporter({ url: `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` });
  return createTracing({
    spanProcessor: new BatchSpanProcessor(exporter),
    serviceName: config.serviceName ?? `hotel-messaging-${role}`,
  });
}

/**
 * Runs `fn` in a span of its own (a child of the active one), ended when `fn` settles; a failure sets the span's
 * status to error with the failure's type or the error's name only (messages can quote what a guest wrote).
 */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  options: {
    kind: SpanKind;
    attributes?: Record<string, string | number>;
    /** Whether a thrown error marks the span as failed (a server span's 4xx answer does not); all do by default. */
    isFailure?: (err: unknown) => boolean;
  },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind: options.kind, attributes: options.attributes ?? {} }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      if (options.isFailure && !options.isFailure(err)) throw err;
      const type = (err as { type?: unknown } | undefined)?.type;
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: typeof type === 'string' ? type : err instanceof Error ? err.name : 'error',
      });
      throw err;
    } finally {
      span.end();
    }
  });
}

export { SpanKind, type Span };
