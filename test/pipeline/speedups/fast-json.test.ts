import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, JsonPatch, Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { PlatformChart } from '../../../charts/platform-chart';
import { loadPlatform } from '../../../config/load';
import { withFastToJson } from '../../../pipeline/speedups/fast-json';
import { chartsToJson } from '../../../pipeline/speedups';
import { ENVIRONMENTS, ROOT } from '../../helpers';

/** Every object of every target in `dir`, serialized by the stock and by the one-pass method. */
function bothWays(dir: string): Array<{ path: string; stock: unknown; fast: unknown }> {
  return loadPlatform(dir).flatMap((config) => {
    const chart = new PlatformChart(new App({ outdir: 'unused' }), config);
    const objects = chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
    const stock = objects.map((o) => o.toJson());
    const fast = withFastToJson(() => objects.map((o) => o.toJson()));
    return objects.map((o, i) => ({ path: o.node.path, stock: stock[i], fast: fast[i] }));
  });
}

describe('the one-pass ApiObject.toJson', () => {
  it('gives exactly the stock JSON, key order included, for every object of the reference platform and the examples', () => {
    const dirs = [
      ENVIRONMENTS,
      ...fs
        .readdirSync(path.join(ROOT, 'examples'))
        .map((e) => path.join(ROOT, 'examples', e, 'environments'))
        .filter((d) => fs.existsSync(d)),
    ];
    expect(dirs.length).toBe(6);
    let count = 0;
    for (const dir of dirs) {
      for (const { path: at, stock, fast } of bothWays(dir)) {
        expect({ at, json: JSON.stringify(fast) }).toEqual({ at, json: JSON.stringify(stock) });
        count++;
      }
    }
    expect(count).toBeGreaterThan(700);
  });

  it('resolves Lazy values, quantities, int-or-strings and implicit tokens, applies JSON patches, and drops nulls as the stock method does', () => {
    const chart = new Chart(new App({ outdir: 'unused' }), 'test');
    const map = new k8s.KubeConfigMap(chart, 'cm', {
      metadata: { name: 'x', labels: { b: '2', a: '1' } },
      data: {
        lazy: Lazy.any({ produce: () => 'produced' }) as unknown as string,
        token: { resolve: () => 'from-token' } as unknown as string,
      },
    });
    map.addJsonPatch(JsonPatch.add('/data/patched', 'yes'));
    const service = new k8s.KubeService(chart, 'svc', {
      metadata: { name: 'y', annotations: undefined },
      spec: {
        ports: [
          { port: 80, targetPort: k8s.IntOrString.fromString('http') },
          { port: 81, targetPort: k8s.IntOrString.fromNumber(8081) },
        ],
        selector: {},
      },
    });
    const limits = new k8s.KubeLimitRange(chart, 'limits', {
      metadata: { name: 'z' },
      spec: {
        limits: [
          { type: 'Container', max: { cpu: k8s.Quantity.fromString('2'), memory: k8s.Quantity.fromNumber(1024) } },
        ],
      },
    });
    for (const o of [map, service, limits]) {
      const fast = withFastToJson(() => o.toJson());
      expect(JSON.stringify(fast)).toBe(JSON.stringify(o.toJson()));
    }
    expect(withFastToJson(() => map.toJson()).data).toEqual({ lazy: 'produced', patched: 'yes', token: 'from-token' });
  });

  it('leaves the stock method in place outside the call, even when the work throws', () => {
    const stock = ApiObject.prototype.toJson;
    expect(() =>
      withFastToJson(() => {
        expect(ApiObject.prototype.toJson).not.toBe(stock);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(ApiObject.prototype.toJson).toBe(stock);
  });
});

describe('chartsToJson', () => {
  it('gives the objects of the stock Chart.toJson, in its order, for every target, also for a chart nested in another', () => {
    for (const config of loadPlatform(ENVIRONMENTS)) {
      const chart = new PlatformChart(new App({ outdir: 'unused' }), config);
      const stock = JSON.stringify(chart.toJson());
      expect(JSON.stringify(chartsToJson([chart], chart.node.findAll()))).toBe(stock);
    }
    const app = new App({ outdir: 'unused' });
    const outer = new Chart(app, 'outer');
    new k8s.KubeConfigMap(outer, 'a', { metadata: { name: 'a' } });
    const inner = new Chart(outer, 'inner');
    new k8s.KubeConfigMap(inner, 'b', { metadata: { name: 'b' } });
    new k8s.KubeConfigMap(outer, 'c', { metadata: { name: 'c' } });
    const charts = [outer, inner];
    expect(chartsToJson(charts, outer.node.findAll())).toEqual(charts.flatMap((c) => c.toJson()));
    expect(chartsToJson(charts, outer.node.findAll()).map((m) => m.metadata.name)).toEqual(['a', 'c', 'b']);
  });

  it('follows declared dependencies as cdk8s does', () => {
    const app = new App({ outdir: 'unused' });
    const chart = new Chart(app, 'chart');
    const first = new k8s.KubeConfigMap(chart, 'first', { metadata: { name: 'first' } });
    const second = new k8s.KubeConfigMap(chart, 'second', { metadata: { name: 'second' } });
    first.node.addDependency(second);
    expect(chartsToJson([chart], chart.node.findAll()).map((m) => m.metadata.name)).toEqual(['second', 'first']);
  });
});
