/**
 * Every speed-up that reaches into a dependency, in one place and behind one switch.
 *
 * | name     | what it replaces                                                | module          |
 * | -------- | --------------------------------------------------------------- | --------------- |
 * | `json`   | cdk8s's `ApiObject.toJson` (resolve, then sanitize) by one pass  | fast-json.ts    |
 * | `charts` | cdk8s's `Chart.toJson` (re-validates the app on every call)      | index.ts        |
 * | `yaml`   | js-yaml's `dump` by a block writer that asks js-yaml per scalar  | yaml-writer.ts  |
 * | `bundle` | Node loading ~540 modules one by one, by one file per entry      | bundle.ts       |
 *
 * `SYNTH_STOCK=1` (or `true`) runs the stock path of every one of them: cdk8s's own
 * `Chart.toJson` and `ApiObject.toJson`, js-yaml's `dump` for every file, and the modules as
 * Node loads them (bin/synth.ts and the worker pool ask bundle.ts before anything else loads;
 * the switch is in switch.ts, which imports nothing). The output is the
 * same byte for byte (test/pipeline/speedups/, and CI's stock-mode pass in .ci/run).
 * `SYNTH_STOCK=json,yaml` turns only the named ones off, to measure each one's gain
 * (`npm run bench -- --speedups`, BENCHMARKS.md). The variable is read once, on first use, and
 * worker threads inherit it. Every call site asks this folder; nothing else patches or bypasses a
 * dependency. A speed-up that gains less than 5 % on both the reference platform and 1,000
 * services x 3 targets does not belong here: the load-time rewrite of the generated converters
 * was removed, at that bar and with no install-time patch that this switch could turn off
 * (BENCHMARKS.md, "Speed-ups behind one switch").
 */
import { dump } from 'js-yaml';
import { ApiObject, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { Manifest } from '../../core/manifest';
import { withFastToJson } from './fast-json';
import { speedupsEnabled } from './switch';
import { toYamlDocument as writeYaml, YAML_OPTIONS } from './yaml-writer';

export { YAML_OPTIONS };

export { SPEEDUPS, STOCK_VARIABLE, speedupsEnabled, stockSpeedups } from './switch';
export type { Speedup } from './switch';

/**
 * The objects of every chart, as `Chart.toJson()` returns them, in that order. That method
 * prepares and validates the whole app again on each call (cdk8s's `App._synthChart`; three
 * times per target here): with the `charts` speed-up, when no construct declares a dependency
 * (none here does: order comes from creation), the objects are taken in tree pre-order, which is
 * what cdk8s's `DependencyGraph(chart.node).topology()` gives then. The caller has validated
 * the tree. With the `json` speed-up each object is serialized in one pass (fast-json.ts).
 */
export function chartsToJson(charts: readonly Chart[], constructs: readonly IConstruct[]): Manifest[] {
  const serialize = speedupsEnabled('json') ? withFastToJson : <T>(work: () => T): T => work();
  if (!speedupsEnabled('charts') || constructs.some((c) => c.node.dependencies.length > 0)) {
    return serialize(() => charts.flatMap((c) => c.toJson() as Manifest[]));
  }
  return serialize(() =>
    charts.flatMap((chart) =>
      chart.node
        .findAll()
        .filter((c): c is ApiObject => c instanceof ApiObject && Chart.of(c) === chart)
        .map((o) => o.toJson() as Manifest),
    ),
  );
}

/** One manifest (plain JSON data) as a YAML document: what js-yaml's `dump(manifest, YAML_OPTIONS)` writes. */
export function toYamlDocument(manifest: unknown): string {
  return speedupsEnabled('yaml') ? writeYaml(manifest) : dump(manifest, YAML_OPTIONS);
}
