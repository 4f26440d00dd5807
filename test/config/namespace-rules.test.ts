import { formatIssue } from '../../config/errors';
import { configIssues, copyEnvironments, edit } from '../helpers';

/** The problems of the reference platform with staging's namespace set to `namespace`. */
function problemsWith(namespace: string): string[] {
  const dir = copyEnvironments();
  edit(dir, 'staging.yaml', /^namespace: trading-staging$/m, `namespace: ${namespace}`);
  return configIssues(dir).map(formatIssue);
}

describe("a target's namespace", () => {
  it.each([
    ['kube-system', /belongs to Kubernetes: the DNS, the network plugin and the controllers run there/],
    ['kube-public', /belongs to Kubernetes/],
    ['kube-node-lease', /belongs to Kubernetes/],
    ['default', /is Kubernetes' default/],
    ['argocd', /is Argo CD's/],
    ['velero', /is Velero's/],
    ['external-secrets', /is the External Secrets Operator's: its controller and webhook run there/],
    ['argo-rollouts', /is the Argo Rollouts controller's/],
    ['keda', /is KEDA's/],
    ['monitoring', /is Prometheus' \(monitoring\.namespace\)/],
    ['ingress-nginx', /is the ingress controller's \(ingress\.controllerNamespace\)/],
  ])('may not be %s, which other software lives in: refused at its line, saying whose it is', (namespace, whose) => {
    const [problem, ...others] = problemsWith(namespace);
    expect(others).toEqual([]);
    expect(problem).toMatch(new RegExp(`staging\\.yaml:\\d+: namespace: "${namespace}" `));
    expect(problem).toMatch(whose);
    expect(problem).toContain(
      "a target may not take it: synth gives the target's namespace a default-deny NetworkPolicy",
    );
    expect(problem).toMatch(
      /Give the target a namespace of its own \(e\.g\. "[a-z-]+-staging"\) \(in target staging\)$/,
    );
  });

  it("may not be the tracing collector's: one message, naming both ways out", () => {
    // defaults.yaml's collector is otel-collector.observability:4317
    const problems = problemsWith('observability');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /(^|\/)defaults\.yaml:\d+: tracing\.collector\.endpoint: "otel-collector\.observability:4317" is in the target's own namespace "observability"/,
    );
    // never the namespace it is already in as the example of another one
    expect(problems[0]).toContain(
      'point the endpoint at the collector in another namespace (e.g. "otel-collector.tracing:4317")',
    );
    expect(problems[0]).toMatch(
      /when the collector already runs in "observability", give the target another namespace \(e\.g\. "[a-z-]+-staging"\) \(in target staging\)$/,
    );
  });

  it('may be any other name', () => {
    const dir = copyEnvironments();
    edit(dir, 'staging.yaml', /^namespace: trading-staging$/m, 'namespace: trading-qa');
    expect(() => configIssues(dir)).toThrow(/loaded, but the test expects it to be refused/);
  });
});
