/**
 * Objects with their keys in sorted order, as manifests and dashboards are written (the output
 * never depends on the order in which a construct added its fields).
 *
 * `Object.keys(value).sort()` allocates a working copy of every array it sorts; on the million
 * small objects of a large synth (1,000 services x 3 targets) those copies were a fifth of all
 * the memory allocated, and so of the garbage collector's work. Objects have few keys (a
 * manifest's 1-10), which an insertion sort puts in order in place. The keys are distinct, so
 * the order is the same as `sort()`'s: by UTF-16 code units.
 */

/** Above this many keys, `Array.prototype.sort`'s merge sort is the faster. */
const INSERTION_SORT_UP_TO = 16;

/** `Object.keys(value).sort()`, without the sort's working copy for the few keys of most objects. */
export function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  const n = keys.length;
  if (n > INSERTION_SORT_UP_TO) return keys.sort();
  for (let i = 1; i < n; i++) {
    const key = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > key) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** Sets `key` of `out` as an own property: an assignment to `__proto__` would set the prototype instead. */
export function setOwn(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/** A shallow copy of `value` with its own keys in sorted order. */
export function withSortedKeys<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const key of sortedKeys(value)) setOwn(out, key, (value as Record<string, unknown>)[key]);
  return out as T;
}
