import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { SecretRef, SecretStoreConfig } from '../config/types';
import { ClusterSecretStore } from '../imports/clustersecretstore-external-secrets.io';
import {
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
} from '../imports/externalsecret-external-secrets.io';

export interface SecretStoreProps {
  /** The store: its name and provider block (checked by config/provider-rules.ts). */
  readonly store: Pick<SecretStoreConfig, 'name' | 'provider'>;
  /** The namespaces whose ExternalSecrets may use the store. */
  readonly namespaces: readonly string[];
  /** Labels of the ClusterSecretStore. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
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
      metadata: { name: props.store.name, labels: props.labels },
      spec: {
        provider: props.store.provider,
        conditions: [{ namespaces: [...props.namespaces] }],
      },
    });
  }
}

export interface ServiceSecretsProps {
  /** The Secret's name (and the ExternalSecret's), e.g. `<service>-secrets`. */
  readonly name: string;
  /** Labels of the ExternalSecret. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** The secrets, one key per environment variable name. */
  readonly secrets: readonly SecretRef[];
  /** The ClusterSecretStore they are read through, and how often. */
  readonly store: Pick<SecretStoreConfig, 'name' | 'refreshInterval'>;
}

/**
 * An ExternalSecret that materialises a service's secrets (its own, its `auth` credential and the
 * `auth` credential of every service it depends on) as the Secret `<service>-secrets`, one key per
 * environment variable. Only references (remote keys) are written to dist/.
 */
export class ServiceSecrets extends Construct {
  constructor(scope: Construct, id: string, props: ServiceSecretsProps) {
    super(scope, id);
    const { name, store } = props;
    new ExternalSecret(this, 'resource', {
      metadata: { name, labels: props.labels },
      spec: {
        refreshInterval: store.refreshInterval ?? '1h',
        secretStoreRef: { kind: ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE, name: store.name },
        target: { name, creationPolicy: ExternalSecretSpecTargetCreationPolicy.OWNER },
        data: props.secrets.map((s) => ({
          secretKey: s.env,
          remoteRef: { key: s.remoteKey, property: s.property },
        })),
      },
    });
  }
}
