// The components of the live twin around the cluster test's etcd + kube-apiserver: the real
// kube-controller-manager and kube-scheduler, kwok as the kubelets of fake Nodes, the Argo
// Rollouts controller, and Prometheus scraping a fixture exporter. Loopback only.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, startProcess, stopProcess, tail } from '../../cluster/lib/controlplane.mjs';
import { sleep } from '../../cluster/lib/kube.mjs';

/** Starts kube-controller-manager, kube-scheduler and kwok; returns their processes. */
export async function startControllers({ assets, dir, cp }) {
  const kcm = startProcess(
    'kube-controller-manager',
    path.join(assets, 'kube-controller-manager'),
    [
      `--kubeconfig=${cp.kubeconfig}`,
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--leader-elect=false',
      `--service-account-private-key-file=${cp.saKeyFile}`,
      `--root-ca-file=${cp.caFile}`,
      '--use-service-account-credentials=false',
      // the default controllers: deployment, replicaset, statefulset, job, disruption, resourcequota,
      // serviceaccount(-token), nodelifecycle, persistentvolume-binder, garbagecollector, ...
      '--concurrent-deployment-syncs=10',
      '--concurrent-replicaset-syncs=10',
      '--v=1',
    ],
    path.join(dir, 'kube-controller-manager.log'),
  );
  const scheduler = startProcess(
    'kube-scheduler',
    path.join(assets, 'kube-scheduler'),
    [
      `--kubeconfig=${cp.kubeconfig}`,
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--leader-elect=false',
      // a pod left unschedulable (e.g. its claim not yet bound) is retried on the event that could
      // help it, and otherwise only after this long (default 5 minutes, longer than the twin's
      // Apply bound): if that event is missed the pod would wait past the scenario. The twin's
      // clock is compressed like the rest of it (still a 1.28 flag, deprecated)
      '--pod-max-in-unschedulable-pods-duration=20s',
      '--v=1',
    ],
    path.join(dir, 'kube-scheduler.log'),
  );
  const kwokPort = await freePort();
  const kwok = startProcess(
    'kwok',
    path.join(assets, 'kwok'),
    [
      `--kubeconfig=${cp.kubeconfig}`,
      `--config=${path.join(assets, 'kwok-stages.yaml')}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--node-lease-duration-seconds=40',
      `--server-address=127.0.0.1:${kwokPort}`,
      '--cidr=10.244.0.0/16',
      '--node-ip=10.0.0.1',
      '-v=WARN',
    ],
    path.join(dir, 'kwok.log'),
  );
  return [kcm, scheduler, kwok];
}

/** Starts the Argo Rollouts controller (loopback ports: see build-assets.sh's overlay). */
export async function startRollouts({ assets, dir, cp }) {
  const bin = path.join(assets, 'rollouts-controller');
  if (!fs.existsSync(bin)) throw new Error(`${bin} missing: run test/cluster/build-assets.sh --live`);
  const metricsPort = await freePort();
  const healthzPort = await freePort();
  return startProcess(
    'rollouts-controller',
    bin,
    [
      `--kubeconfig=${cp.kubeconfig}`,
      '--leader-elect=false',
      `--metricsPort=${metricsPort}`,
      `--healthzPort=${healthzPort}`,
      '--loglevel=warn',
    ],
    path.join(dir, 'rollouts-controller.log'),
  );
}

/**
 * The traffic the preview pods would get, as metrics: for every pod of a Rollout (label
 * rollouts-pod-template-hash), counters of every metric name the analyses query growing at 10/s
 * with the labels the queries select on (namespace, pod, code="200", status="ok"), and every
 * histogram's observations in its smallest bucket. Pods running an image in `badImages` also
 * answer half their requests with code="500"/status="error" and slowly: a release an analysis
 * must fail.
 */
export class FixtureExporter {
  constructor({ namespace }) {
    this.namespace = namespace;
    this.pods = []; // {name, image, since}
    this.counters = new Set();
    this.histograms = new Set();
    this.badImages = new Set();
    this.server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(this.render());
    });
  }

  /** Learns the metric names from the analysis queries. */
  learn(queries) {
    for (const q of queries) {
      for (const m of q.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)) {
        const name = m[1];
        if (['rate', 'sum', 'vector', 'histogram_quantile', 'by', 'or'].includes(name)) continue;
        if (name.endsWith('_bucket')) this.histograms.add(name.slice(0, -'_bucket'.length));
        else this.counters.add(name);
      }
    }
  }

  render() {
    const lines = [];
    const now = Date.now();
    for (const pod of this.pods) {
      const seconds = Math.max(0, (now - pod.since) / 1000);
      const n = Math.round(seconds * 10);
      const bad = this.badImages.has(pod.image);
      const base = `namespace="${this.namespace}",pod="${pod.name}"`;
      for (const c of this.counters) {
        lines.push(`${c}{${base},code="200",status="ok"} ${n}`);
        if (bad) lines.push(`${c}{${base},code="500",status="error"} ${n}`);
      }
      for (const h of this.histograms) {
        // good: every observation under 10µs; bad: every observation at 10s
        for (const le of ['0.00001', '0.1', '10', '+Inf'])
          lines.push(`${h}_bucket{${base},le="${le}"} ${bad && le !== '10' && le !== '+Inf' ? 0 : n}`);
        lines.push(`${h}_count{${base}} ${n}`, `${h}_sum{${base}} ${bad ? n * 10 : n * 0.000005}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  async listen() {
    const port = await freePort();
    await new Promise((r) => this.server.listen(port, '127.0.0.1', r));
    this.port = port;
    return port;
  }

  close() {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** Prometheus (Debian's /usr/bin/prometheus) on loopback, scraping the fixture exporter every second. */
export async function startPrometheus({
  dir,
  exporterPort,
  bin = process.env.LIVE_TEST_PROMETHEUS ?? '/usr/bin/prometheus',
}) {
  if (!fs.existsSync(bin))
    throw new Error(
      `${bin} not found: install Debian's prometheus package (apt-get install prometheus) or set LIVE_TEST_PROMETHEUS`,
    );
  const port = await freePort();
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: twin-traffic',
      '    honor_labels: true',
      `    static_configs: [{ targets: ["127.0.0.1:${exporterPort}"] }]`,
      '',
    ].join('\n'),
  );
  const proc = startProcess(
    'prometheus',
    bin,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    path.join(dir, 'prometheus.log'),
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    if (proc.exited) throw new Error(`prometheus exited (${proc.exitCode}):\n${tail(proc.logFile)}`);
    const ok = await new Promise((resolve) => {
      http
        .get(`${url}/-/ready`, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        })
        .on('error', () => resolve(false));
    });
    if (ok) return { proc, url };
    await sleep(500);
  }
  throw new Error(`prometheus not ready on ${url}:\n${tail(proc.logFile)}`);
}

export { stopProcess, tail };
