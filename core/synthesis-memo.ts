/**
 * Memo tables that live for one synthesis. A helper that remembers what it computed (a PromQL
 * shape's validity, a scalar's YAML) takes its table from `synthesisMemo()` instead of a bare
 * module-level Map; pipeline/delivery-synth.ts ends the synthesis when its outputs are assembled
 * (`endSynthesis`), which empties every table. So nothing one synthesis computed outlives it in a
 * long-lived process (the tests, the benchmark, a program that synthesizes several platforms), and
 * no table grows with every configuration a process has seen. A table only ever holds values that
 * depend on nothing but their key, so emptying it never changes a result, only the time it takes.
 *
 * Facts of one configuration are not memoized here but in a WeakMap keyed by the configuration
 * object (constructs/network-policies.ts, constructs/labels.ts): they die with it.
 */
const tables: Array<Map<unknown, unknown>> = [];

/** A memo table emptied at the end of each synthesis. */
export function synthesisMemo<K, V>(): Map<K, V> {
  const table = new Map<K, V>();
  tables.push(table as Map<unknown, unknown>);
  return table;
}

/** Ends a synthesis: every memo table is emptied. */
export function endSynthesis(): void {
  for (const table of tables) table.clear();
}

/** How many entries the memo tables hold (for tests). */
export function memoSize(): number {
  return tables.reduce((n, table) => n + table.size, 0);
}
