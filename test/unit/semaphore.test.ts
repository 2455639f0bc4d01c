import { BoundedSemaphore, SemaphoreFullError } from '../../lib/semaphore';

/** The cap on concurrent scrypt verifications (security review, finding 4) rests on this. */

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('BoundedSemaphore', () => {
  it('runs at most maxActive tasks at once, queues maxQueued in order, refuses the rest without running them', async () => {
    const semaphore = new BoundedSemaphore(2, 2);
    const gates = Array.from({ length: 5 }, deferred);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const results = gates.map((gate, i) =>
      semaphore
        .run(async () => {
          started.push(i);
          running += 1;
          most = Math.max(most, running);
          await gate.promise;
          running -= 1;
          return i;
        })
        .catch((err: unknown) => err),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(await results[4]).toBeInstanceOf(SemaphoreFullError);
    gates[1]!.resolve();
    gates[0]!.resolve();
    expect(await results[0]).toBe(0);
    gates[2]!.resolve();
    gates[3]!.resolve();
    expect(await Promise.all(results.slice(0, 4))).toEqual([0, 1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(most).toBe(2);
  });

  it('frees the slot when a task throws', async () => {
    const semaphore = new BoundedSemaphore(1, 0);
    await expect(semaphore.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(semaphore.run(() => Promise.resolve('ok'))).resolves.toBe('ok');
  });
});
