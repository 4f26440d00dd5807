import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { meshOf } from '../config/model';
import { TargetConfig } from '../config/types';
import { AlertRouting } from '../constructs/alert-routing';
import { BackupSchedules } from '../constructs/backups';
import { ExternalPeerService } from '../constructs/external-peers';
import { FeatureFlags } from '../constructs/feature-flags';
import { NamespaceNetworkPolicies } from '../constructs/network-policies';
import { LABEL, platformLabels } from '../constructs/labels';
import { AMBIENT_LABEL, NamespaceMesh } from '../constructs/mesh';
import { PriorityClasses } from '../constructs/priority-classes';
import { SecretStore } from '../constructs/secrets';
import { TargetNamespace } from '../constructs/target-namespace';
import { sharedLabelsOf } from './service-props';
import { TradingService } from './trading-service';

/**
 * The base of every target: a chart that owns the target's namespace and stamps the standard
 * labels on every object, plus a nested chart without a namespace for cluster-scoped objects.
 */
export class BaseChart extends Chart {
  /** Where cluster-scoped objects go (no namespace is stamped on them). */
  readonly clusterScope: Chart;

  constructor(
    scope: Construct,
    readonly config: TargetConfig,
  ) {
    super(scope, config.target, {
      namespace: config.namespace,
      labels: platformLabels(config.platform.name),
      disableResourceNameHashes: true,
    });
    this.clusterScope = new Chart(this, 'cluster', {
      labels: platformLabels(config.platform.name),
      disableResourceNameHashes: true,
    });
    new TargetNamespace(this, 'namespace', {
      namespace: config.namespace,
      podSecurity: config.podSecurity,
      quota: config.quota,
      limitRange: config.limitRange,
      labels: sharedLabelsOf(config, 'namespace'),
      clusterScope: this.clusterScope,
      namespaceLabels: meshOf(config) ? AMBIENT_LABEL : undefined,
    });
  }
}

/** One deployment target (development, staging, production-us-east-1, …) of the platform. */
export class PlatformChart extends BaseChart {
  readonly services: TradingService[];

  constructor(scope: Construct, config: TargetConfig) {
    super(scope, config);
    new PriorityClasses(this.clusterScope, 'priority-classes', {
      classes: Object.values(config.priorityClasses),
      labels: sharedLabelsOf(config, 'scheduling'),
    });
    new SecretStore(this.clusterScope, 'secret-store', {
      store: config.secretStore,
      namespaces: [config.namespace],
      labels: sharedLabelsOf(config, 'secrets'),
    });
    new FeatureFlags(this, 'feature-flags', {
      environment: config.environment,
      flags: Object.values(config.featureFlags),
      labels: sharedLabelsOf(config, 'feature-flags'),
    });
    new NamespaceNetworkPolicies(this, 'network-policies', { labels: sharedLabelsOf(config, 'network-policy') });
    const mesh = meshOf(config);
    if (mesh) new NamespaceMesh(this, 'mesh', { mtls: mesh.mtls, labels: sharedLabelsOf(config, 'mesh') });
    new AlertRouting(this, 'alert-routing', {
      alerting: config.monitoring.alerting,
      store: config.secretStore,
      labels: sharedLabelsOf(config, 'alerting'),
      selectorLabels: config.monitoring.selectorLabels,
    });
    for (const peer of Object.values(config.externals)) {
      const { externalName } = peer;
      if (externalName) {
        new ExternalPeerService(this, `external-${peer.name}`, {
          peer: { ...peer, externalName },
          labels: { ...sharedLabelsOf(config, 'external'), [LABEL.name]: peer.name },
        });
      }
    }
    this.services = Object.values(config.services).map(
      (service) => new TradingService(this, service.name, { config, service, clusterScope: this.clusterScope }),
    );
    if (config.backups.length)
      new BackupSchedules(this, 'backups', {
        namespace: config.namespace,
        schedules: config.backups,
        labels: sharedLabelsOf(config, 'backup'),
      });
  }
}
