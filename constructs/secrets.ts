import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { SecretStoreConfig, ServiceConfig, TargetConfig } from '../config/types';
import { ClusterSecretStore } from '../imports/clustersecretstore-external-secrets.io';
import { ExternalSecret, ExternalSecretSpecSecretStoreRefKind, ExternalSecretSpecTargetCreationPolicy } from '../imports/externalsecret-external-secrets.io';
import { serviceLabels, sharedLabels } from './labels';
import { secretNameOf, secretsOf } from './pod-template';

export interface SecretStoreProps {
  readonly config: TargetConfig;
  readonly store: SecretStoreConfig;
}

/**
 * The ClusterSecretStore through which External Secrets reads the cloud secret manager. It holds
 * the provider settings only (region, auth by workload identity); no credential is written.
 */
export class SecretStore extends Construct {
  constructor(scope: Construct, id: string, props: SecretStoreProps) {
    super(scope, id);
    // a plain ApiObject, not the generated class: its converter knows the provider fields only in
    // camelCase (`externalId`) and drops the CRD's own spelling (`externalID`). The block is written
    // as configured, which config/provider-rules.ts checked against the CRD's schema.
    new ApiObject(this, 'resource', {
      ...ClusterSecretStore.GVK,
      metadata: { name: props.store.name, labels: sharedLabels(props.config, 'secrets') },
      spec: {
        provider: props.store.provider,
        conditions: [{ namespaces: [props.config.namespace] }],
      },
    });
  }
}

export interface ServiceSecretsProps {
  readonly config: TargetConfig;
  readonly service: ServiceConfig;
}

/**
 * An ExternalSecret that materialises a service's secrets (its own, its `auth` credential and the
 * `auth` credential of every service it depends on) as the Secret `<service>-secrets`, one key per
 * environment variable. Only references (remote keys) are written to dist/.
 */
export class ServiceSecrets extends Construct {
  constructor(scope: Construct, id: string, props: ServiceSecretsProps) {
    super(scope, id);
    const { config, service } = props;
    const name = secretNameOf(service);
    new ExternalSecret(this, 'resource', {
      metadata: { name, labels: serviceLabels(config, service) },
      spec: {
        refreshInterval: config.secretStore.refreshInterval ?? '1h',
        secretStoreRef: { kind: ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE, name: config.secretStore.name },
        target: { name, creationPolicy: ExternalSecretSpecTargetCreationPolicy.OWNER },
        data: secretsOf(config, service).map((s) => ({
          secretKey: s.env,
          remoteRef: { key: s.remoteKey, property: s.property },
        })),
      },
    });
  }
}
