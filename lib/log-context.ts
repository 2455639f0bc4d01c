import { AsyncLocalStorage } from 'node:async_hooks';

/** Fields added to every log line written inside {@link withLogContext} (the logger's mixin reads them). */
export type LogFields = Record<string, string | undefined>;

const storage = new AsyncLocalStorage<LogFields>();

/** Runs `fn` so that every line any logger writes during it (and what it awaits) carries `fields`. */
export function withLogContext<T>(fields: LogFields, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, fn);
}

/** The fields of the context the caller runs in; empty outside any. */
export function logContextFields(): LogFields {
  const store = storage.getStore();
  if (!store) return {};
  return Object.fromEntries(Object.entries(store).filter(([, v]) => v !== undefined));
}
