import type { WorkerOptions } from '@temporalio/worker';
import type { Config } from '../lib/config';

/**
 * The conversation worker's Temporal settings, from `WORKER_*` (README's configuration table; docs/scaling.md, "Worker
 * settings", says what each was chosen from). Set explicitly rather than left to the SDK: its default sticky cache size
 * follows the V8 heap limit of the machine, not the memory the worker is given.
 */
export function workerTuning(t: Config['workerTuning']) {
  return {
    // Bounds memory: a cached conversation costs ~0.4 MiB; one evicted answers after a replay of its history.
    maxCachedWorkflows: t.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: t.maxConcurrentWorkflowTasks,
    maxConcurrentActivityTaskExecutions: t.maxConcurrentActivities,
    // Tenant resolution and understanding run here (patch `perf-local-steps`), one pair per message in flight.
    maxConcurrentLocalActivityExecutions: t.maxConcurrentLocalActivities,
    // The poller behaviours, not `maxConcurrent*TaskPolls`: SDK 1.24 derives the behaviour from the slots and ignores those.
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: t.workflowTaskPollers },
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: t.activityTaskPollers },
    stickyQueueScheduleToStartTimeout: t.stickyQueueTimeoutMs,
    // One V8 context for every workflow: far less memory and CPU per cached conversation (the SDK's default).
    reuseV8Context: true,
  } as const satisfies Partial<WorkerOptions>;
}
