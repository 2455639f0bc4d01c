import * as otel from '@opentelemetry/api';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
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

/**
 * Workflow interceptors (the worker's `workflowModules`, bundled with the workflows): the SDK's OpenTelemetry ones (a
 * span for the run, each signal and each activity scheduled, exported through the `exporter` sink, the context in the
 * activities' `_tracer-data` header), and inside them one that notes the context each inbound message arrived in.
 */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    new OpenTelemetryInboundInterceptor(),
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
});
