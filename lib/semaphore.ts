/** Thrown by {@link BoundedSemaphore.run} when every slot is taken and the wait queue is full. */
export class SemaphoreFullError extends Error {
  override readonly name = 'SemaphoreFullError';
}

/**
 * At most `maxActive` tasks at once; up to `maxQueued` more wait in order for a slot, and any beyond that are
 * refused at once with {@link SemaphoreFullError}, so a flood cannot pile up work or memory.
 */
export class BoundedSemaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly maxActive: number,
    private readonly maxQueued: number,
  ) {}

  /** Runs `task` once a slot is free; throws {@link SemaphoreFullError} without running it if none can be had. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxActive) {
      if (this.waiting.length >= this.maxQueued) throw new SemaphoreFullError('all slots are taken');
      // The slot is handed over by the finishing task, so `active` stays counted while it passes.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
