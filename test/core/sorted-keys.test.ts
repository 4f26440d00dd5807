import { sortedKeys, withSortedKeys } from '../../core/sorted-keys';

describe('sorted keys', () => {
  it('orders keys as Array.prototype.sort does: by UTF-16 code units, whatever their number', () => {
    let seed = 11;
    const random = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
    const alphabet = ['a', 'B', 'z', '0', '9', '10', '-', '_', 'é', 'Ω', '\u{1F600}', '$', ' '];
    for (let round = 0; round < 2000; round++) {
      const value: Record<string, number> = {};
      const count = random(40);
      for (let i = 0; i < count; i++) {
        const key = Array.from({ length: 1 + random(4) }, () => alphabet[random(alphabet.length)]).join('');
        value[key] = i;
      }
      expect(sortedKeys(value)).toEqual(Object.keys(value).sort());
    }
    // integer-like keys, which Object.keys lists first in numeric order: as strings, "10" < "9"
    expect(sortedKeys({ 9: 0, 10: 0, b: 0, 1: 0, a: 0 })).toEqual(['1', '10', '9', 'a', 'b']);
    expect(sortedKeys({})).toEqual([]);
  });

  it('copies an object with its keys in order, `__proto__` kept as a key of its own', () => {
    const value = JSON.parse('{"spec": 1, "__proto__": {"polluted": true}, "kind": "x", "a": null}') as object;
    const copy = withSortedKeys(value) as Record<string, unknown>;
    expect(Object.keys(copy)).toEqual(['__proto__', 'a', 'kind', 'spec']);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(copy.__proto__).toEqual({ polluted: true });
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"polluted":true},"a":null,"kind":"x","spec":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
