/**
 * The same platform synthesized the stock cdk8s way, for `npm run bench` only: a cdk8s App with
 * one PlatformChart per target, run by `cdk8s synth` through ts-node, writing with cdk8s's own
 * file-per-chart output. Not used to produce dist/.
 */
import { App, YamlOutputType } from 'cdk8s';
import { PlatformChart } from '../charts/platform-chart';
import { loadPlatform } from '../config/load';

const app = new App({ yamlOutputType: YamlOutputType.FILE_PER_CHART });
for (const config of loadPlatform(process.env.BENCH_CONFIG ?? 'environments')) new PlatformChart(app, config);
app.synth();
