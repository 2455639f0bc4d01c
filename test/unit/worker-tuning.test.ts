import { loadConfig } from '../../lib/config';
import { workerTuning } from '../../workers/tuning';
import { testSecrets } from '../helpers/env';

/** The worker's Temporal settings come from `WORKER_*`, each passed to the SDK under its own name. */
describe('workerTuning', () => {
  const tuning = (env: Record<string, string> = {}) =>
    workerTuning(loadConfig({ ...testSecrets, ...env }).workerTuning);

  it('passes the documented defaults, with a sticky cache bounded whatever the machine, and reuseV8Context on', () => {
    expect(tuning()).toEqual({
      maxCachedWorkflows: 1_000,
      maxConcurrentWorkflowTaskExecutions: 40,
      maxConcurrentActivityTaskExecutions: 100,
      maxConcurrentLocalActivityExecutions: 100,
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 10 },
      activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 10 },
      stickyQueueScheduleToStartTimeout: 10_000,
      reuseV8Context: true,
    });
  });

  it('takes each setting from its variable', () => {
    expect(
      tuning({
        WORKER_MAX_CACHED_WORKFLOWS: '500',
        WORKER_MAX_WORKFLOW_TASKS: '20',
        WORKER_MAX_ACTIVITIES: '50',
        WORKER_MAX_LOCAL_ACTIVITIES: '60',
        WORKER_WORKFLOW_TASK_POLLERS: '4',
        WORKER_ACTIVITY_TASK_POLLERS: '3',
        WORKER_STICKY_QUEUE_TIMEOUT_MS: '5000',
      }),
    ).toEqual({
      maxCachedWorkflows: 500,
      maxConcurrentWorkflowTaskExecutions: 20,
      maxConcurrentActivityTaskExecutions: 50,
      maxConcurrentLocalActivityExecutions: 60,
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 4 },
      activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 3 },
      stickyQueueScheduleToStartTimeout: 5_000,
      reuseV8Context: true,
    });
  });
});
