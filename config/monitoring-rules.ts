import { promqlError } from '../lib/promql';
import { PathSegment } from './errors';
import { TargetConfig } from './types';

/** The port Prometheus scrapes (PLATFORM.md, "Services"). */
export const METRICS_PORT = 'metrics';

/** The request latency histogram of HTTP services (PLATFORM.md, "Monitoring"). */
export const HTTP_LATENCY_HISTOGRAM = 'http_request_duration_seconds';
/** The order latency histogram of services that route orders (`monitoring.alerts.orderLatency`). */
export const ORDER_LATENCY_HISTOGRAM = 'trading_order_latency_seconds';

/**
 * The latency histogram a service is held to, from what its monitoring configuration says it
 * emits: `trading_order_latency_seconds` when it declares an order latency alert (its latency
 * budget is the order path's), else `http_request_duration_seconds` when it serves HTTP, none
 * when it is not scraped or emits neither. The blue/green analysis gates on the same histogram
 * the service's latency alert and dashboard read.
 */
export function latencyHistogramOf(service: {
  readonly ports: ReadonlyArray<{ readonly name: string }>;
  readonly monitoring?: { readonly http?: boolean; readonly alerts?: { readonly orderLatency?: unknown } };
}): string | undefined {
  if (!service.ports.some((p) => p.name === METRICS_PORT)) return undefined;
  if (service.monitoring?.alerts?.orderLatency) return ORDER_LATENCY_HISTOGRAM;
  if (servesHttp(service)) return HTTP_LATENCY_HISTOGRAM;
  return undefined;
}

/** Whether a service serves HTTP metrics (`http_requests_total`, `http_request_duration_seconds`). */
export function servesHttp(service: { readonly monitoring?: { readonly http?: boolean } }): boolean {
  return service.monitoring?.http ?? true;
}

/**
 * Monitoring rules the schema cannot express: a custom alert's PromQL must parse (with the
 * Prometheus grammar, so the error points at the environment file's line), alert names are
 * unique per service, and alerts on application metrics need a `metrics` port to scrape.
 */
export function checkMonitoringRules(config: TargetConfig, at: (p: PathSegment[], message: string) => void): void {
  for (const service of Object.values(config.services)) {
    const base = ['services', service.name, 'monitoring'];
    const monitoring = service.monitoring;
    if (!monitoring) continue;
    const scraped = service.ports.some((p) => p.name === METRICS_PORT);
    const alerts = monitoring.alerts ?? {};

    const custom = alerts.custom ?? [];
    const names = new Map<string, number>();
    custom.forEach((alert, i) => {
      const error = promqlError(alert.expr);
      if (error) {
        at([...base, 'alerts', 'custom', i, 'expr'], `custom alert "${alert.alert}" of service "${service.name}": ${error}; fix the expression (it is checked with the Prometheus grammar)`);
      }
      if (names.has(alert.alert)) {
        at([...base, 'alerts', 'custom', i, 'alert'], `custom alert name "${alert.alert}" is already used by custom[${names.get(alert.alert)}] of service "${service.name}"; alert names must be unique per service`);
      }
      names.set(alert.alert, i);
    });

    if (alerts.latencyP95Seconds !== undefined && !servesHttp(service)) {
      at([...base, 'alerts', 'latencyP95Seconds'], `service "${service.name}" sets http: false, so there is no http_request_duration_seconds to alert on; remove latencyP95Seconds or set monitoring.http: true`);
    }
    if (!scraped) {
      const appMetrics = ['latencyP95Seconds', 'orderLatency', 'orderRejectionRatio', 'marketDataStaleSeconds', 'drawdownRatio', 'custom'] as const;
      for (const key of appMetrics) {
        if (alerts[key] !== undefined) {
          at([...base, 'alerts', key], `service "${service.name}" has no port named "${METRICS_PORT}", so Prometheus scrapes nothing to alert on; add ports: [{name: ${METRICS_PORT}, port: 9090}] or remove the alert`);
        }
      }
      if (monitoring.slo) at([...base, 'slo'], `service "${service.name}" has no port named "${METRICS_PORT}", so there is no error ratio to measure the SLO with; add a metrics port or remove the SLO`);
      if (monitoring.interval) at([...base, 'interval'], `service "${service.name}" has no port named "${METRICS_PORT}" to scrape; add a metrics port or remove interval`);
    }
  }
}
