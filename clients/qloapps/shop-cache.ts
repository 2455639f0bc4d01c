/**
 * What the QloApps clients remember about each shop between calls: its settings that rarely change (the order states
 * that free a booking's rooms, a room type's tax group and fees). One per worker, shared by every client made for a
 * call; keyed by the shop's base URL, so tenants on one shop share it. Entries expire after `ttlMs`, so a shop that
 * renumbers its states or changes a fee is seen within that time; a failed load is not kept.
 */
export interface ShopCache {
  /** The cached value for `key` of `shop`, or what `load` gives (then kept for the TTL). */
  get<T>(shop: string, key: string, load: () => Promise<T>): Promise<T>;
}

export function createShopCache(options: { ttlMs: number; maxEntries?: number; now?: () => number }): ShopCache {
  const { ttlMs, maxEntries = 1_000 } = options;
  const now = options.now ?? Date.now;
  const entries = new Map<string, { at: number; value: Promise<unknown> }>();
  return {
    get<T>(shop: string, key: string, load: () => Promise<T>): Promise<T> {
      const id = `${shop}\n${key}`;
      const hit = entries.get(id);
      if (hit && now() - hit.at < ttlMs) return hit.value as Promise<T>;
      entries.delete(id);
      // Calls that arrive while one loads share its answer.
      const value = load();
      entries.set(id, { at: now(), value });
      value.catch(() => {
        if (entries.get(id)?.value === value) entries.delete(id);
      });
      // Oldest first: Map keeps insertion order.
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      return value;
    },
  };
}
