import { Obj } from '../../core/manifest';
import { allowedFlows } from '../../pipeline/network-readme';
import { configOf, manifestsOf, referencePlatform, TARGETS } from '../helpers';
import { NetworkEvaluator, podOf } from '../network-evaluator';

const readmeOf = (target: string) =>
  referencePlatform()
    .outputs.find((o) => o.folder === target)!
    .files.get('README.md')!;

describe.each(TARGETS)('README of %s', (target) => {
  const readme = readmeOf(target);
  const config = configOf(target);
  const manifests = manifestsOf(target);

  it('draws the allowed flows as a Mermaid flowchart', () => {
    const diagram = readme.match(/```mermaid\n([\s\S]*?)```/)?.[1];
    expect(diagram).toBeDefined();
    expect(diagram).toMatch(/^flowchart LR\n/);
    expect(diagram).toContain('ns_ingress_nginx -->|8080| w_gateway');
    expect(diagram).toContain('w_execution_gateway -->|443, 9878| ext_exchanges');
    expect(diagram).toContain('all_pods -->|53 UDP+TCP| ns_kube_system_k8s_app_kube_dns');
    expect(diagram).toContain(`ext_exchanges[/"exchanges<br/>${config.externals.exchanges.cidrs.join('<br/>')}"/]`);
    expect(diagram).not.toMatch(/w_gateway -->\|[^|]*\| w_execution_gateway/);
    expect(diagram).not.toMatch(/w_ml_service -->\|[^|]*\| ext_postgres/);
  });

  it('draws exactly the service-to-service flows the NetworkPolicies allow', () => {
    const net = new NetworkEvaluator(manifests);
    const services = Object.keys(config.services);
    const { edges } = allowedFlows(config, manifests);
    for (const from of services) {
      for (const to of services.filter((s) => s !== from)) {
        const drawn = edges.get(`w_${from.replace(/-/g, '_')}>w_${to.replace(/-/g, '_')}`);
        const allowed = config.services[to].ports
          .filter((p) => net.mayReach(podOf(manifests, from), podOf(manifests, to), p.port))
          .map((p) => `${p.port}/TCP`);
        expect([from, to, [...(drawn ?? [])].sort()]).toEqual([from, to, allowed.sort()]);
      }
    }
  });

  it("draws exactly the flows a blue/green release's smoke-test pods may make to the service's pods", () => {
    const net = new NetworkEvaluator(manifests);
    const { edges } = allowedFlows(config, manifests);
    const smokeTests = manifests
      .filter((m) => m.kind === 'AnalysisTemplate')
      .flatMap((m) => ((m as Obj).spec.metrics as Obj[]).map((metric) => metric.provider?.job?.spec?.template))
      .filter((template): template is Obj => template !== undefined);
    const blueGreen = Object.values(config.services).filter((s) => s.release?.strategy === 'blueGreen');
    expect(smokeTests).toHaveLength(blueGreen.length);
    for (const template of smokeTests) {
      const labels = template.metadata.labels as Record<string, string>;
      const smoke = { namespace: config.namespace, labels, ports: [] };
      for (const service of Object.keys(config.services)) {
        const drawn = edges.get(
          `w_${labels['app.kubernetes.io/name'].replace(/-/g, '_')}>w_${service.replace(/-/g, '_')}`,
        );
        const allowed = config.services[service].ports
          .filter((p) => net.mayReach(smoke, podOf(manifests, service), p.port))
          .map((p) => `${p.port}/TCP`);
        expect([labels['app.kubernetes.io/name'], service, [...(drawn ?? [])].sort()]).toEqual([
          labels['app.kubernetes.io/name'],
          service,
          allowed.sort(),
        ]);
      }
    }
    // production's two blue/green services each reach their own pods, and only them
    if (blueGreen.length) expect(readme).toMatch(/^\| gateway-smoke-test \| gateway \| 8080 \|$/m);
  });

  it('lists who may do what in the Kubernetes API', () => {
    expect(readme).toContain('## Who may do what in the Kubernetes API');
    expect(readme).toContain(
      '| orchestrator | yes | Role `orchestrator` (RoleBinding `orchestrator`) | `get`, `watch` | `""` | `configmaps` | `feature-flags` |',
    );
    expect(readme).toContain(
      '| orchestrator | yes | Role `orchestrator` (RoleBinding `orchestrator`) | `create` | `coordination.k8s.io` | `leases` | any |',
    );
    for (const name of Object.keys(config.services).filter((s) => s !== 'orchestrator')) {
      expect(readme).toContain(`| ${name} | no | nothing | - | - | - | - |`);
    }
  });
});
