import { PathSegment } from './errors';
import { latencyHistogramOf } from './monitoring-rules';
import { ServiceConfig, TargetConfig } from './types';

/** Argo Rollouts' own default and floor: endpoints need time to drop the old pods after the switch. */
export const MIN_SCALE_DOWN_DELAY_SECONDS = 30;

/** What a blue/green analysis can measure for a service, from what the service exposes. */
export type AnalysisSignal = 'http' | 'orders';

/**
 * The metrics a service's pre-promotion analysis queries: HTTP request metrics when the service
 * serves HTTP, order metrics when it declares order alerts (it then emits `trading_orders_total`
 * and `trading_order_latency_seconds`), nothing when it has no `metrics` port.
 */
export function analysisSignalOf(service: ServiceConfig): AnalysisSignal | undefined {
  if (!service.ports.some((p) => p.name === 'metrics')) return undefined;
  if (service.monitoring?.http ?? true) return 'http';
  const alerts = service.monitoring?.alerts;
  if (alerts?.orderLatency || alerts?.orderRejectionRatio !== undefined) return 'orders';
  return undefined;
}

/**
 * Delivery rules the schema cannot express: a blue/green release is only promoted after an
 * analysis that queries Prometheus, so the service must expose metrics that analysis can read,
 * and a latency gate needs a latency histogram (`latencyHistogramOf`).
 */
export function checkDeliveryRules(config: TargetConfig, at: (p: PathSegment[], message: string) => void): void {
  for (const service of Object.values(config.services)) {
    if (service.release?.strategy !== 'blueGreen') continue;
    const base = ['services', service.name, 'release'];
    const delay = service.release.blueGreen?.scaleDownDelaySeconds;
    if (delay !== undefined && delay < MIN_SCALE_DOWN_DELAY_SECONDS) {
      at(
        [...base, 'blueGreen', 'scaleDownDelaySeconds'],
        `is ${delay} for "${service.name}"; the old pods must outlive the switch of the active Service's selector ` +
          `(kube-proxy and ingress endpoints update asynchronously), so Argo Rollouts needs at least ${MIN_SCALE_DOWN_DELAY_SECONDS}; raise it to ${MIN_SCALE_DOWN_DELAY_SECONDS} or more`,
      );
    }
    if (service.release.blueGreen?.latencyP99Seconds !== undefined && !latencyHistogramOf(service)) {
      at(
        [...base, 'blueGreen', 'latencyP99Seconds'],
        `"${service.name}" emits no latency histogram the analysis can gate on: it needs a port named "metrics" and either HTTP metrics (monitoring.http: true, http_request_duration_seconds) ` +
          'or an order latency alert (monitoring.alerts.orderLatency, trading_order_latency_seconds); add them or remove latencyP99Seconds',
      );
    }
    if (!analysisSignalOf(service)) {
      at(
        [...base, 'strategy'],
        `blueGreen for "${service.name}" is promoted after a Prometheus analysis, but the service exposes nothing it can measure: ` +
          'it needs a port named "metrics" and either HTTP metrics (monitoring.http: true) or order metrics (monitoring.alerts.orderLatency or orderRejectionRatio); add them or use strategy: rolling',
      );
    }
  }
}
