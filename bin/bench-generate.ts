/**
 * Writes a generated platform of N services (three environments) for benchmarks: every service
 * looks like a real one of the reference platform, and each depends on its two predecessors, so
 * network policies, monitoring and capacity checks all do real work.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import type { Obj } from '../core/manifest';

export function generatePlatform(dir: string, services: number, reference = 'environments'): void {
  fs.mkdirSync(dir, { recursive: true });
  const defaults = parse(fs.readFileSync(path.join(reference, 'defaults.yaml'), 'utf8'));
  const template = defaults.services['data-service'];
  const generated: Record<string, unknown> = {};
  for (let i = 0; i < services; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    const deps = [i - 1, i - 2]
      .filter((j) => j >= 0)
      .map((j) => ({ service: `svc-${String(j).padStart(4, '0')}`, port: 'http' }));
    generated[name] = {
      ...template,
      description: `Generated service ${i}`,
      component: `component-${i % 10}`,
      image: `ghcr.io/bench/${name}:1.0.${i}`,
      dependsOn: [...deps, { external: 'postgres' }],
      secrets: [],
      monitoring: { alerts: { latencyP95Seconds: 0.2 } },
    };
  }
  defaults.services = generated;
  // every threshold says why (config/threshold-comments.ts): comments do not survive parse/stringify
  // every flag needs a declared owner: hand them round the generated services
  const names = Object.keys(generated);
  Object.values((defaults.featureFlags ?? {}) as Record<string, { owner?: string }>).forEach((flag, i) => {
    flag.owner = names[i % names.length];
  });
  const text = stringify(defaults, { aliasDuplicateObjects: false }).replace(
    /^(\s+latencyP95Seconds: 0\.2)$/gm,
    '$1 # generated: the latency objective of a service like signal-service',
  );
  fs.writeFileSync(path.join(dir, 'defaults.yaml'), text);
  // every environment of the reference (development, staging and production in the repository)
  const environments = fs
    .readdirSync(reference)
    .filter((f) => f.endsWith('.yaml') && f !== 'defaults.yaml')
    .map((f) => f.replace(/\.yaml$/, ''));
  for (const env of environments) {
    const data = parse(fs.readFileSync(path.join(reference, `${env}.yaml`), 'utf8'));
    const overrides = data.services ?? {};
    data.services = {};
    const sample = overrides['data-service'];
    if (sample) for (const name of Object.keys(generated)) data.services[name] = { ...sample };
    // a single target per environment, 3 targets in all: fold the first region into the environment
    if (data.regions) {
      const [first] = Object.values(data.regions) as Array<Record<string, unknown>>;
      delete data.regions;
      deepMerge(data, first);
    }
    // room for every service at maximum scale
    data.quota = {
      requests: { cpu: `${services * 10}`, memory: `${services * 20}Gi` },
      limits: { cpu: `${services * 20}`, memory: `${services * 40}Gi` },
      pods: services * 20,
    };
    // nodes for that quota, with one of three zones drained (config/node-rules.ts): 64 CPUs, 256Gi, 250 pods each
    const zones = data.cluster?.nodes?.zones ?? ['zone-a', 'zone-b', 'zone-c'];
    data.cluster = {
      ...data.cluster,
      nodes: { zones, perZone: Math.ceil(services / 12) + 1, cpu: '64', memory: '256Gi', pods: 250 },
    };
    fs.writeFileSync(path.join(dir, `${env}.yaml`), stringify(data, { aliasDuplicateObjects: false }));
  }
}

function deepMerge(into: Obj, from: Obj): void {
  for (const [k, v] of Object.entries(from)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && into[k] && typeof into[k] === 'object')
      deepMerge(into[k], v);
    else into[k] = v;
  }
}

if (require.main === module) {
  generatePlatform(process.argv[2], Number(process.argv[3] ?? 1000));
}
