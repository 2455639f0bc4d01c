import { startWorker, testConfig } from '../helpers/env';

/** The conversation worker runs with the `WORKER_*` settings, not the SDK's machine-dependent defaults. */
it('creates the conversation worker with the WORKER_* settings and reuseV8Context on', async () => {
  const running = await startWorker(
    testConfig({
      WORKER_MAX_CACHED_WORKFLOWS: '7',
      WORKER_MAX_WORKFLOW_TASKS: '6',
      WORKER_WORKFLOW_TASK_POLLERS: '3',
      WORKER_MAX_LOCAL_ACTIVITIES: '9',
      WORKER_STICKY_QUEUE_TIMEOUT_MS: '4000',
    }),
  );
  try {
    const { options } = running.worker;
    expect(options.maxCachedWorkflows).toBe(7);
    expect(options.stickyQueueScheduleToStartTimeoutMs).toBe(4_000);
    expect(options.reuseV8Context).toBe(true);
    expect(options.workflowTaskPollerBehavior).toMatchObject({ type: 'simple-maximum', maximum: 3 });
    expect(options.tuner).toMatchObject({
      workflowTaskSlotSupplier: { numSlots: 6 },
      localActivityTaskSlotSupplier: { numSlots: 9 },
    });
  } finally {
    await running.stop();
  }
});
