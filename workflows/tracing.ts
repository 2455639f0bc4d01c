import * as otel from '@opentelemetry/api';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { inboundMessageSignal } from '../lib/domain/conversation';

/**
 * The trace context each queued message arrived in (its `HandleSignal` span), by message id, until the message is
 * handled. Kept on `globalThis`, which the SDK gives each workflow execution of its own.
 */
const key = '__hmMessageTraces';
/** A duplicate delivery is noted but never handled: the oldest entries go first past this many. */
const tracesMax = 64;

function messageTraces(): Map<string, otel.Context> {
  const g = globalThis as Record<string, unknown>;
  g[key] ??= new Map<string, otel.Context>();
  return g[key] as Map<string, otel.Context>;
}

/**
 * Runs the handling of a queued message in the trace of the webhook that delivered it, so its activities (and the
 * Graph send) are children of that message's signal span rather than of the run's first one. Changes no command.
 */
export function inMessageTrace<T>(messageId: string, fn: () => Promise<T>): Promise<T> {
  const traces = messageTraces();
  const context = traces.get(messageId);
  traces.delete(messageId);
  return context ? otel.context.with(context, fn) : fn();
}

/** The id generator of the SDK's workflow tracer (`@opentelemetry/sdk-trace-base`'s Tracer keeps it as `_idGenerator`). */
interface IdGenerator {
  generateTraceId(): string;
  generateSpanId(): string;
}

const idsKey = '__hmSpanIds';

/** `bytes` bytes as hex, from the run id and a per-run counter (FNV-1a, then a 32-bit mix per 4 bytes). */
function spanIdHex(bytes: number): string {
  const g = globalThis as Record<string, unknown>;
  const n = ((g[idsKey] as number | undefined) ?? 0) + 1;
  g[idsKey] = n;
  const text = `${workflowInfo().runId}:${n}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  let out = '';
  for (let i = 0; out.length < bytes * 2; i++) {
    let x = Math.imul(h ^ (i + 1), 0x9e3779b1) >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
    x = (x ^ (x >>> 13)) >>> 0;
    out += x.toString(16).padStart(8, '0');
  }
  return out.slice(0, bytes * 2);
}

/**
 * Gives the SDK's workflow tracer ids that do not come from `Math.random`. In a workflow, `Math.random` is the run's
 * seeded generator, which `uuid4()` draws from too: every span would shift the ids the workflow makes after it (a
 * booking's child workflow id), so a history recorded before tracing, or with tracing off, would no longer replay.
 * These ids are unique per run and span, and deterministic, which is all a trace needs.
 */
function ownSpanIds(tracer: unknown): void {
  const generator = (tracer as { _idGenerator?: IdGenerator } | undefined)?._idGenerator;
  if (!generator) throw new Error('The workflow tracer has no _idGenerator: check @opentelemetry/sdk-trace-base');
  generator.generateTraceId = () => spanIdHex(16);
  generator.generateSpanId = () => spanIdHex(8);
}

/**
 * Workflow interceptors (the worker's `workflowModules`, bundled with the workflows): the SDK's OpenTelemetry ones (a
 * span for the run, each signal and each activity scheduled, exported through the `exporter` sink, the context in the
 * activities' `_tracer-data` header), and inside them one that notes the context each inbound message arrived in.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  const otelInbound = new OpenTelemetryInboundInterceptor();
  // One tracer for the whole bundle (the SDK's module keeps it); replacing its generator again is harmless.
  ownSpanIds((otelInbound as unknown as { tracer: unknown }).tracer);
  return {
    inbound: [
      otelInbound,
      {
        handleSignal(input, next) {
          const id = (input.args[0] as { id?: unknown } | undefined)?.id;
          if (input.signalName === inboundMessageSignal.name && typeof id === 'string') {
            const traces = messageTraces();
            traces.set(id, otel.context.active());
            if (traces.size > tracesMax) traces.delete(traces.keys().next().value!);
          }
          return next(input);
        },
      },
    ],
    outbound: [new OpenTelemetryOutboundInterceptor()],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
