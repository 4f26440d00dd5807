import { stableJson } from '../../constructs/dashboards';
import { referencePlatform } from '../helpers';

/** The definition stableJson must match: JSON.stringify of a copy with sorted keys. */
function sortedCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedCopy);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortedCopy((v as Record<string, unknown>)[k])]),
    );
  return v;
}
const expected = (v: unknown) => `${JSON.stringify(sortedCopy(v), null, 2)}\n`;

describe('stableJson', () => {
  it('writes what JSON.stringify writes for a sorted copy, for awkward values', () => {
    const values: unknown[] = [
      { b: 1, a: { d: [3, { z: 1, y: [] }], c: {} } },
      {
        skipped: undefined,
        fn: () => 1,
        kept: null,
        list: [undefined, () => 1, NaN, Infinity, -0, 1.5e-7, 'x"y\n\\z'],
      },
      [[], {}, [[]], [{}], 'µs', '\u2028', true, false],
      { 'b-key': 1, B: 2, a: 3, 10: 4, 2: 5 },
      { nested: { deeper: { deepest: { list: [1, [2, [3, { k: 'v' }]]] } } } },
      'just a string',
      42,
      null,
      JSON.parse('{"z": 1, "__proto__": {"b": 1, "a": 2}, "a": 3}'),
    ];
    for (const v of values) expect(stableJson(v)).toBe(expected(v));
  });

  it('writes every dashboard of the reference platform as the sorted copy would', () => {
    const dashboards = referencePlatform()
      .outputs.flatMap((o) => o.manifests)
      .filter((m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-dashboard'));
    expect(dashboards.length).toBeGreaterThan(20);
    for (const d of dashboards) {
      for (const json of Object.values(d.data as Record<string, string>)) {
        const model = JSON.parse(json);
        expect(json).toBe(expected(model));
        expect(stableJson(model)).toBe(json);
      }
    }
  });
});
