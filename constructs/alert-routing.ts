import { Construct } from 'constructs';
import { AlertRoutingConfig, SecretStoreConfig } from '../config/types';
import {
  AlertmanagerConfig,
  AlertmanagerConfigSpecReceivers,
  AlertmanagerConfigSpecRoute,
  AlertmanagerConfigSpecRouteMatchersMatchType,
} from '../imports/alertmanagerconfig-monitoring.coreos.com';
import {
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
} from '../imports/externalsecret-external-secrets.io';

/** The Secret the receivers' keys are synced into (by an ExternalSecret of the same name). */
export const RECEIVERS_SECRET = 'alertmanager-receivers';
/** Keys of that Secret. */
export const PAGERDUTY_KEY = 'pagerduty-routing-key';
export const SLACK_KEY = 'slack-webhook-url';
/** Name of the AlertmanagerConfig. */
export const ALERT_ROUTING = 'alert-routing';

/** The receiver that takes whatever no route claims (e.g. `info`): it notifies nobody. */
const NULL_RECEIVER = 'null';

export interface AlertRoutingProps {
  /** The receivers and the severities each gets (`monitoring.alerting`). @default - no routing: nothing is created */
  readonly alerting?: AlertRoutingConfig;
  /** The ClusterSecretStore the receivers' keys are read through. */
  readonly store: Pick<SecretStoreConfig, 'name' | 'refreshInterval'>;
  /** Labels of the objects. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
  /** Labels the Prometheus Operator selects the AlertmanagerConfig by. @default - none */
  readonly selectorLabels?: Record<string, string>;
}

/**
 * Where the target's alerts go (PLATFORM.md, "Environments": alert routing): each receiver
 * configured under `monitoring.alerting` gets the severities it lists (production: critical →
 * PagerDuty, warning → Slack). The receivers' keys come from the secret manager through an
 * ExternalSecret; dist/ holds only their remote keys. Without `monitoring.alerting` (development)
 * nothing is created.
 */
export class AlertRouting extends Construct {
  constructor(scope: Construct, id: string, props: AlertRoutingProps) {
    super(scope, id);
    const { alerting, store } = props;
    if (!alerting || (!alerting.pagerduty && !alerting.slack)) return;
    const labels = { ...props.labels, ...props.selectorLabels };

    const data = [
      ...(alerting.pagerduty ? [{ secretKey: PAGERDUTY_KEY, remoteRef: { key: alerting.pagerduty.remoteKey } }] : []),
      ...(alerting.slack ? [{ secretKey: SLACK_KEY, remoteRef: { key: alerting.slack.remoteKey } }] : []),
    ];
    new ExternalSecret(this, 'receivers', {
      metadata: { name: RECEIVERS_SECRET, labels: props.labels },
      spec: {
        refreshInterval: store.refreshInterval ?? '1h',
        secretStoreRef: { kind: ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE, name: store.name },
        target: { name: RECEIVERS_SECRET, creationPolicy: ExternalSecretSpecTargetCreationPolicy.OWNER },
        data,
      },
    });

    const receivers: AlertmanagerConfigSpecReceivers[] = [{ name: NULL_RECEIVER }];
    const routes: AlertmanagerConfigSpecRoute[] = [];
    const severityRoute = (
      receiver: string,
      severities: readonly string[],
      repeatInterval: string,
    ): AlertmanagerConfigSpecRoute => ({
      receiver,
      matchers: [
        {
          name: 'severity',
          matchType: AlertmanagerConfigSpecRouteMatchersMatchType.VALUE_EQUAL_TILDE,
          value: [...severities].sort().join('|'),
        },
      ],
      // an alert of a severity two receivers take goes to both
      continue: true,
      repeatInterval,
    });
    if (alerting.pagerduty) {
      receivers.push({
        name: 'pagerduty',
        pagerdutyConfigs: [
          {
            routingKey: { name: RECEIVERS_SECRET, key: PAGERDUTY_KEY },
            sendResolved: true,
            severity: '{{ .CommonLabels.severity }}',
            description: '{{ .CommonLabels.service }}: {{ .CommonAnnotations.summary }}',
            details: [
              { key: 'runbook', value: '{{ .CommonAnnotations.runbook_url }}' },
              { key: 'description', value: '{{ .CommonAnnotations.description }}' },
            ],
          },
        ],
      });
      // a page that is still open is repeated hourly
      routes.push(severityRoute('pagerduty', alerting.pagerduty.severities, '1h'));
    }
    if (alerting.slack) {
      receivers.push({
        name: 'slack',
        slackConfigs: [
          {
            apiUrl: { name: RECEIVERS_SECRET, key: SLACK_KEY },
            channel: alerting.slack.channel,
            sendResolved: true,
            title:
              '[{{ .Status | toUpper }}] {{ .CommonLabels.severity }}: {{ .CommonLabels.service }} {{ .CommonLabels.alertname }}',
            text: '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}',
          },
        ],
      });
      routes.push(severityRoute('slack', alerting.slack.severities, '4h'));
    }

    new AlertmanagerConfig(this, 'resource', {
      metadata: { name: ALERT_ROUTING, labels },
      spec: {
        route: {
          // the operator adds a `namespace` matcher: this routes the target namespace's alerts only
          receiver: NULL_RECEIVER,
          groupBy: ['alertname', 'service', 'severity'],
          groupWait: '30s',
          groupInterval: '5m',
          repeatInterval: '4h',
          routes,
        },
        receivers,
        // a critical alert silences the warning of the same alert and service (5xx > 5% and > 1%)
        inhibitRules: [
          {
            sourceMatch: [{ name: 'severity', value: 'critical' }],
            targetMatch: [{ name: 'severity', value: 'warning' }],
            equal: ['alertname', 'service'],
          },
        ],
      },
    });
  }
}
