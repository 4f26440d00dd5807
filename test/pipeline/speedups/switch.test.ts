import { SPEEDUPS, stockSpeedups, STOCK_VARIABLE } from '../../../pipeline/speedups';
import type { TargetOutput } from '../../../pipeline/synth';
import { ENVIRONMENTS } from '../../helpers';

/**
 * Fresh copies of cdk8s, the speed-ups and the pipeline, loaded with SYNTH_STOCK set to `stock`
 * (the switch is read once per module instance, as in a synth process), given to `work`.
 */
function withStock<T>(stock: string, work: (load: (id: string) => any) => T): T {
  const saved = process.env[STOCK_VARIABLE];
  process.env[STOCK_VARIABLE] = stock;
  try {
    let result: T | undefined;
    jest.isolateModules(() => {
      result = work((id) => jest.requireActual(id));
    });
    return result!;
  } finally {
    if (saved === undefined) delete process.env[STOCK_VARIABLE];
    else process.env[STOCK_VARIABLE] = saved;
  }
}

/** Every file of every folder of the reference platform (dist/ in memory), synthesized in one mode. */
function referenceFiles(stock: string): Map<string, string> {
  return withStock(stock, (load) => {
    const { loadPlatform } = load('../../../config/load');
    const { synthesizeAll } = load('../../../pipeline/synth');
    const outputs: TargetOutput[] = synthesizeAll(loadPlatform(ENVIRONMENTS));
    return new Map(
      outputs.flatMap((o) => [...o.files].map(([file, text]): [string, string] => [`${o.folder}/${file}`, text])),
    );
  });
}

/**
 * How the objects of a small chart were serialized: whether cdk8s's own `ApiObject.toJson` was
 * in place while each object was serialized, and how often `Chart.toJson` and js-yaml's `dump` ran.
 */
function pathsTaken(stock: string): { stockToJson: boolean[]; chartToJson: number; dump: number; enabled: boolean } {
  return withStock(stock, (load) => {
    const cdk8s: typeof import('cdk8s') = load('cdk8s');
    const jsYaml: typeof import('js-yaml') = load('js-yaml');
    const speedups: typeof import('../../../pipeline/speedups') = load('../../../pipeline/speedups');
    const own = cdk8s.ApiObject.prototype.toJson;
    const stockToJson: boolean[] = [];
    class Probe extends cdk8s.ApiObject {
      toJson(): any {
        stockToJson.push(cdk8s.ApiObject.prototype.toJson === own);
        return super.toJson();
      }
    }
    const chart = new cdk8s.Chart(new cdk8s.App({ outdir: 'unused' }), 'chart');
    new Probe(chart, 'a', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
    new Probe(chart, 'b', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' }, data: { yes: 'no' } });
    const chartToJson = jest.spyOn(cdk8s.Chart.prototype, 'toJson');
    const dump = jest.spyOn(jsYaml, 'dump');
    const manifests = speedups.chartsToJson([chart], chart.node.findAll());
    const calls = dump.mock.calls.length;
    const text = manifests.map((m) => speedups.toYamlDocument(m)).join('---\n');
    expect(text).toBe(
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  'yes': 'no'\n",
    );
    expect(cdk8s.ApiObject.prototype.toJson).toBe(own);
    return {
      stockToJson,
      chartToJson: chartToJson.mock.calls.length,
      dump: dump.mock.calls.length - calls,
      enabled: speedups.speedupsEnabled(),
    };
  });
}

describe('SYNTH_STOCK, the switch of the speed-ups (pipeline/speedups/)', () => {
  it('turns every speed-up off with 1 or true, the listed ones with a list, none when unset, and refuses an unknown name', () => {
    expect([...stockSpeedups(undefined)]).toEqual([]);
    expect([...stockSpeedups('')]).toEqual([]);
    expect([...stockSpeedups('0')]).toEqual([]);
    expect([...stockSpeedups('1')]).toEqual(SPEEDUPS);
    expect([...stockSpeedups('true')]).toEqual(SPEEDUPS);
    expect([...stockSpeedups('yaml, json')]).toEqual(['yaml', 'json']);
    expect(() => stockSpeedups('jsno')).toThrow(
      /SYNTH_STOCK=jsno: unknown speed-up jsno; use 1 \(all stock\) or a list of/,
    );
  });

  it("runs cdk8s's own Chart.toJson and ApiObject.toJson and js-yaml's dump in stock mode, and the speed-ups otherwise", () => {
    const stock = pathsTaken('1');
    expect(stock).toEqual({ stockToJson: [true, true], chartToJson: 1, dump: 2, enabled: false });
    const fast = pathsTaken('');
    // the one-pass toJson in place, no Chart.toJson; js-yaml asked once per distinct scalar, not per document
    expect(fast.stockToJson).toEqual([false, false]);
    expect(fast.chartToJson).toBe(0);
    expect(fast.enabled).toBe(true);
    expect(pathsTaken('yaml')).toMatchObject({ stockToJson: [false, false], chartToJson: 0, dump: 2, enabled: false });
  });

  it('gives every file of the reference platform byte for byte the same in stock mode as with the speed-ups', () => {
    const fast = referenceFiles('');
    const stock = referenceFiles('1');
    expect(fast.size).toBeGreaterThan(300);
    expect([...stock.keys()]).toEqual([...fast.keys()]);
    for (const [file, text] of fast) expect({ file, text: stock.get(file) }).toEqual({ file, text });
  });
});
