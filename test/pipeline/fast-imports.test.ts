import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { linearized, QUADRATIC } from '../../pipeline/fast-imports';
import { BUILD, ENVIRONMENTS, ROOT } from '../helpers';

const PLATFORMS = [ENVIRONMENTS, ...fs.readdirSync(path.join(ROOT, 'examples')).map((e) => path.join(ROOT, 'examples', e, 'environments')).filter((d) => fs.existsSync(d))];

/**
 * Run in a plain node process (jest loads modules its own way, so the hook does not apply in
 * jest): every object of every platform as JSON, and whether cdk8s-plus-28's converters were
 * rewritten when they loaded.
 */
const SCRIPT = `
const { App, ApiObject, Chart } = require('cdk8s');
require(${JSON.stringify(path.join(BUILD, 'pipeline', 'synth'))});
const { k8s } = require('cdk8s-plus-28');
const { PlatformChart } = require(${JSON.stringify(path.join(BUILD, 'charts', 'platform-chart'))});
const { loadPlatform } = require(${JSON.stringify(path.join(BUILD, 'config', 'load'))});
const objects = [];
for (const dir of ${JSON.stringify(PLATFORMS)}) {
  for (const config of loadPlatform(dir)) {
    const chart = new PlatformChart(new App({ outdir: 'unused' }), config);
    for (const c of chart.node.findAll()) if (c instanceof ApiObject) objects.push([c.node.path, c.toJson()]);
  }
}
// keys a map may hold that an assignment would treat specially, or would reorder
const odd = new k8s.KubeConfigMap(new Chart(new App({ outdir: 'unused' }), 'odd'), 'odd', {
  metadata: { name: 'odd', labels: { b: 'x', '10': 'n' } },
  data: JSON.parse('{"__proto__": "p", "z": "1", "2": "two"}'),
});
objects.push(['odd', odd.toJson()]);
const rewritten = require('cdk8s-plus-28/lib/imports/k8s').toJson_ObjectMeta.toString().includes('__definedEntry');
process.stdout.write(JSON.stringify({ rewritten, objects }));
`;

function objectsLoaded(stock: boolean): { rewritten: boolean; objects: Array<[string, unknown]> } {
  const env = { ...process.env, CDK8S_STOCK_IMPORTS: stock ? '1' : '' };
  const result = spawnSync(process.execPath, ['-e', SCRIPT], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout);
}

describe('the rewritten converters of the generated imports', () => {
  it('give every object of the reference platform and the examples exactly as the generated code does', () => {
    const fast = objectsLoaded(false);
    const stock = objectsLoaded(true);
    expect(fast.rewritten).toBe(true);
    expect(stock.rewritten).toBe(false);
    expect(fast.objects.length).toBeGreaterThan(700);
    expect(fast.objects.map(([at]) => at)).toEqual(stock.objects.map(([at]) => at));
    fast.objects.forEach(([at, json], i) => expect({ at, json: JSON.stringify(json) }).toEqual({ at, json: JSON.stringify(stock.objects[i][1]) }));
    const odd = fast.objects.find(([at]) => at === 'odd')![1] as { metadata: { labels: object }; data: object };
    expect(Object.keys(odd.data)).toEqual(['2', 'z']); // cdk8s's resolve itself drops __proto__
    expect(Object.keys(odd.metadata.labels)).toEqual(['10', 'b']);
  });

  it('replace only the quadratic expression, and keep every line where it was', () => {
    const code = `function f(result) {\n  return Object.entries(result)${QUADRATIC};\n}\nconst g = 1;`;
    const out = linearized(code);
    expect(out).not.toContain(QUADRATIC);
    expect(out.split('\n').slice(0, 4)).toEqual(['function f(result) {', '  return Object.entries(result).reduce(__definedEntry, {});', '}', 'const g = 1;']);
    expect(linearized('const untouched = [1].reduce((a, b) => a + b, 0);')).toBe('const untouched = [1].reduce((a, b) => a + b, 0);');
    // eslint-disable-next-line no-new-func
    const f = new Function(`${out}\nreturn f;`)() as (o: object) => object;
    const input = JSON.parse('{"b": 1, "skip": null, "__proto__": 2, "a": 3}');
    input.gone = undefined;
    expect(JSON.stringify(f(input))).toBe(JSON.stringify({ b: 1, skip: null, ...JSON.parse('{"__proto__": 2}'), a: 3 }));
  });
});
