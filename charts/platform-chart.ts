import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { TargetConfig } from '../config/types';
import { AlertRouting } from '../constructs/alert-routing';
import { BackupSchedules } from '../constructs/backups';
import { ExternalPeerService } from '../constructs/external-peers';
import { FeatureFlags } from '../constructs/feature-flags';
import { NamespaceNetworkPolicies } from '../constructs/network-policies';
import { platformLabels } from '../constructs/labels';
import { PriorityClasses } from '../constructs/priority-classes';
import { SecretStore } from '../constructs/secrets';
import { TargetNamespace } from '../constructs/target-namespace';
import { TradingService } from '../constructs/trading-service';

/**
 * The base of every target: a chart that owns the target's namespace and stamps the standard
 * labels on every object, plus a nested chart without a namespace for cluster-scoped objects.
 */
export class BaseChart extends Chart {
  /** Where cluster-scoped objects go (no namespace is stamped on them). */
  readonly clusterScope: Chart;

  constructor(scope: Construct, readonly config: TargetConfig) {
    super(scope, config.target, {
      namespace: config.namespace,
      labels: platformLabels(config),
      disableResourceNameHashes: true,
    });
    this.clusterScope = new Chart(this, 'cluster', { labels: platformLabels(config), disableResourceNameHashes: true });
    new TargetNamespace(this, 'namespace', { config, clusterScope: this.clusterScope });
  }
}

/** One deployment target (development, staging, production-us-east-1, …) of the platform. */
export class PlatformChart extends BaseChart {
  readonly services: TradingService[];

  constructor(scope: Construct, config: TargetConfig) {
    super(scope, config);
    new PriorityClasses(this.clusterScope, 'priority-classes', { config });
    new SecretStore(this.clusterScope, 'secret-store', { config, store: config.secretStore });
    new FeatureFlags(this, 'feature-flags', { config });
    new NamespaceNetworkPolicies(this, 'network-policies', { config });
    new AlertRouting(this, 'alert-routing', { config });
    for (const peer of Object.values(config.externals)) {
      if (peer.externalName) new ExternalPeerService(this, `external-${peer.name}`, { config, peer });
    }
    this.services = Object.values(config.services).map((service) => new TradingService(this, service.name, { config, service, clusterScope: this.clusterScope }));
    if (config.backups.length) new BackupSchedules(this, 'backups', { config });
  }
}
