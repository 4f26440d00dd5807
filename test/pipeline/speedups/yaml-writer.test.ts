import * as fs from 'fs';
import * as path from 'path';
import { dump } from 'js-yaml';
import { loadPlatform } from '../../../config/load';
import { generatePlatform } from '../../../bin/bench-generate';
import { synthesizeAll } from '../../../pipeline/synth';
import { toYamlDocument, YAML_OPTIONS } from '../../../pipeline/speedups/yaml-writer';
import { copyEnvironments, ENVIRONMENTS, referencePlatform, ROOT } from '../../helpers';

/** What js-yaml writes, the writer pipeline/speedups/yaml-writer.ts must match byte for byte. */
const reference = (value: unknown) => dump(value, YAML_OPTIONS);

describe('the YAML writer', () => {
  it('writes every object of the reference platform exactly as js-yaml does', () => {
    const manifests = referencePlatform().outputs.flatMap((o) => o.manifests);
    expect(manifests.length).toBeGreaterThan(300);
    for (const m of manifests)
      expect(`${m.kind}/${m.metadata.name}\n${toYamlDocument(m)}`).toBe(
        `${m.kind}/${m.metadata.name}\n${reference(m)}`,
      );
  });

  it('writes every object of every example exactly as js-yaml does', () => {
    const examples = fs
      .readdirSync(path.join(ROOT, 'examples'))
      .filter((e) => fs.existsSync(path.join(ROOT, 'examples', e, 'environments')));
    expect(examples.length).toBe(5);
    for (const example of examples) {
      for (const m of synthesizeAll(loadPlatform(path.join(ROOT, 'examples', example, 'environments'))).flatMap(
        (o) => o.manifests,
      )) {
        expect(toYamlDocument(m)).toBe(reference(m));
      }
    }
  });

  it('writes the objects of a generated platform exactly as js-yaml does', () => {
    const dir = copyEnvironments();
    generatePlatform(dir, 12, ENVIRONMENTS);
    for (const m of synthesizeAll(loadPlatform(dir)).flatMap((o) => o.manifests))
      expect(toYamlDocument(m)).toBe(reference(m));
  });

  // scalars whose style js-yaml decides with care: YAML 1.1 booleans and numbers, indicators,
  // quotes, leading spaces, trailing newlines, non-ASCII, long lines; at every depth
  const tricky: unknown[] = [
    '',
    ' ',
    'yes',
    'No',
    'on',
    'OFF',
    'y',
    'true',
    'null',
    '~',
    'Null',
    '1',
    '-1',
    '0x1F',
    '0o17',
    '1_000',
    '1:20',
    '1e3',
    '.5',
    '.inf',
    '.NaN',
    '2026-12-01',
    '2026-12-01T10:00:00Z',
    'a: b',
    'a:b',
    '- x',
    '-x',
    '[x]',
    '{x: 1}',
    '#x',
    'x #y',
    'x#y',
    '&a',
    '*a',
    '!tag',
    '|',
    '>',
    '%x',
    '@x',
    '`x',
    "it's",
    '"q"',
    'tab\there',
    'trailing ',
    ' leading',
    'µs 100',
    'ünïcödé',
    'emoji 🚀',
    'a\nb',
    'a\nb\n',
    'a\nb\n\n',
    '\nleading newline',
    '  indented\nblock',
    'line\n  indented\nline',
    'x'.repeat(300),
    `${'word '.repeat(80)}end`,
    `${'long line '.repeat(40)}\nsecond`,
    'sum(rate(x{job="a"}[5m])) > 0.01',
    '{\n  "json": true\n}\n',
    `   ${'x'.repeat(300)}\nnext`,
    `${'y'.repeat(300)}\n`,
    `${'z'.repeat(300)}\n\n`,
    `\n ${'w'.repeat(300)}`,
    `${'t'.repeat(300)}\n\tx`,
    `${'u'.repeat(300)}\nµ`,
    '\n'.repeat(300),
    `${'v'.repeat(300)}\n  \n`,
    `${'#'.repeat(300)}\n: x`,
    0,
    -0,
    1,
    -1,
    1.5,
    0.1,
    1e21,
    1e-7,
    12345678901234567000,
    true,
    false,
    null,
    [],
    {},
    [[]],
    [{}],
    [[1, 2], [3]],
  ];

  it('writes tricky scalars, keys and nestings exactly as js-yaml does', () => {
    const keys = tricky.filter((t): t is string => typeof t === 'string' && t.length < 100);
    const documents: unknown[] = [
      Object.fromEntries(tricky.map((value, i) => [`k${i}`, value])),
      { list: tricky },
      { a: { b: { c: { d: tricky } } } },
      { a: [{ b: tricky, c: [tricky, { d: tricky }] }] },
      Object.fromEntries(keys.map((k) => [k, 1])),
      { nested: Object.fromEntries(keys.map((k) => [k, { [k]: [k] }])) },
      { skipped: undefined, kept: 1, holes: [1, undefined, 3] },
    ];
    for (const document of documents) expect(toYamlDocument(document)).toBe(reference(document));
  });
});
