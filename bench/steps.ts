import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { percentile } from './stats';
import type { Sample } from './e2e';

const EventType = temporal.api.enums.v1.EventType;
const StickyKind = temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One interval on a message's path, in milliseconds. */
export interface Step {
  label: string;
  ms: number;
}

/**
 * Cuts one message's path into steps, from the webhook to the reply, using the workflow history's event times:
 * each workflow task's schedule-to-start (matching, pollers) and start-to-complete (the worker, plus its
 * respond call), each activity's schedule-to-start and run, and the send as the stand-in saw it.
 * `events` are the history from the event that brought the message (WorkflowExecutionStarted for a new guest,
 * the WorkflowExecutionSignaled of a follow-up) on; the path ends with the first `sendMessage` that completes.
 */
export function messageSteps(events: HistoryEvent[], sample: Sample): Step[] {
  const steps: Step[] = [];
  const first = events[0];
  if (!first) return steps;
  let cursor = tsToMs(first.eventTime);
  const add = (label: string, at: number) => {
    steps.push({ label, ms: at - cursor });
    cursor = at;
  };
  steps.push({ label: 'webhook: posted → signal in history', ms: cursor - sample.postedAt });
  let task = 0;
  const activities = new Map<number, string>(); // scheduled event id → activity type
  for (const event of events.slice(1)) {
    const at = tsToMs(event.eventTime);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED: {
        task++;
        const sticky = event.workflowTaskScheduledEventAttributes?.taskQueue?.kind === StickyKind;
        add(`task ${task} scheduled (${sticky ? 'sticky' : 'normal'} queue)`, at);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        add(`task ${task}: schedule → start`, at);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        add(`task ${task}: start → completed`, at);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        add(`task ${task}: start → failed or timed out`, at);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const name = event.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity';
        activities.set(Number(event.eventId), name);
        add(`${name}: scheduled`, at);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const name = activities.get(Number(event.activityTaskStartedEventAttributes?.scheduledEventId)) ?? 'activity';
        add(`${name}: schedule → start`, at);
        if (name === 'sendMessage' && sample.replyAt !== undefined)
          add('sendMessage: start → reply at Graph API', sample.replyAt);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const attributes =
          event.activityTaskCompletedEventAttributes ??
          event.activityTaskFailedEventAttributes ??
          event.activityTaskTimedOutEventAttributes;
        const name = activities.get(Number(attributes?.scheduledEventId)) ?? 'activity';
        add(name === 'sendMessage' ? 'sendMessage: reply → completed' : `${name}: start → completed`, at);
        if (name === 'sendMessage') {
          if (sample.replyAt !== undefined)
            steps.push({ label: 'total: posted → reply', ms: sample.replyAt - sample.postedAt });
          return steps;
        }
        break;
      }
      default:
      // Markers, search-attribute upserts, signals of other messages: no step of their own.
    }
  }
  return steps;
}

/** The events of `sample`'s message: from the start (new conversation) or its own signal (follow-up). */
export async function eventsOfMessage(client: Client, workflowId: string, sample: Sample, followUp: boolean) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  if (!followUp) return events;
  // The follow-up's signal: the first one recorded after its webhook was posted (the sender waits for each reply).
  const signals = events
    .map((e, i) => ({ e, i }))
    .filter(
      ({ e }) =>
        e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED && tsToMs(e.eventTime) >= sample.postedAt - 5,
    );
  const signal = signals[0];
  return signal ? events.slice(signal.i) : [];
}

export interface StepRow {
  label: string;
  /** How many of the messages had this step. */
  count: number;
  p50: number | null;
  p95: number | null;
}

/** Per step, the median and p95 over many messages, in the order the steps first appear. */
export function stepTable(paths: Step[][]): StepRow[] {
  const byLabel = new Map<string, number[]>();
  for (const path of paths) {
    for (const step of path) {
      const list = byLabel.get(step.label) ?? [];
      list.push(step.ms);
      byLabel.set(step.label, list);
    }
  }
  const round = (v: number | null) => (v === null ? null : Number(v.toFixed(1)));
  return [...byLabel].map(([label, values]) => ({
    label,
    count: values.length,
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
  }));
}
