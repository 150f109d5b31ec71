/**
 * Node 20 lacks `Map.groupBy` and `Object.groupBy` (Node 21+), and vitest 5's reporter calls
 * `Map.groupBy` when it prints failed tests: without these, a failing run ends in
 * "TypeError: Map.groupBy is not a function" instead of the assertion that failed. Imported by
 * vitest.config.ts, so it runs in the process that reports.
 */

type KeyOf<T, K> = (item: T, index: number) => K;

if (typeof (Map as { groupBy?: unknown }).groupBy !== 'function') {
  Object.defineProperty(Map, 'groupBy', {
    configurable: true,
    writable: true,
    value<T, K>(items: Iterable<T>, keyOf: KeyOf<T, K>): Map<K, T[]> {
      const groups = new Map<K, T[]>();
      let index = 0;
      for (const item of items) {
        const key = keyOf(item, index++);
        const group = groups.get(key);
        if (group) group.push(item);
        else groups.set(key, [item]);
      }
      return groups;
    },
  });
}

if (typeof (Object as { groupBy?: unknown }).groupBy !== 'function') {
  Object.defineProperty(Object, 'groupBy', {
    configurable: true,
    writable: true,
    value<T>(items: Iterable<T>, keyOf: KeyOf<T, PropertyKey>): Record<PropertyKey, T[]> {
      const groups = Object.create(null) as Record<PropertyKey, T[]>;
      let index = 0;
      for (const item of items) (groups[keyOf(item, index++)] ??= []).push(item);
      return groups;
    },
  });
}

export {};
