import { ALERT_NAMES } from '../core/alert-names';
import { templateError } from '../core/go-template';
import { promqlError } from '../core/promql';
import { PathSegment } from './errors';
import { StandardThresholds, TargetConfig, ThresholdOverrides } from './types';

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
 * unique per service and not those of the generated alerts, and alerts on application metrics need a `metrics` port to scrape.
 */
export function checkMonitoringRules(config: TargetConfig, at: (p: PathSegment[], message: string) => void): void {
  checkThresholds(config.monitoring.thresholds, ['monitoring', 'thresholds'], at);
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
        at(
          [...base, 'alerts', 'custom', i, 'expr'],
          `custom alert "${alert.alert}" of service "${service.name}": ${error}; fix the expression (it is checked with the Prometheus grammar)`,
        );
      }
      // Prometheus reads summary and description as Go templates ({{ $value }}); one that does not
      // parse makes it refuse the whole rule file. The reason is plain text, escaped when rendered.
      for (const field of ['summary', 'description'] as const) {
        const problem = templateError(alert[field]);
        if (problem)
          at(
            [...base, 'alerts', 'custom', i, field],
            `custom alert "${alert.alert}" of service "${service.name}": Prometheus reads ${field} as a Go template and would refuse it: ${problem}; use {{ $value }} or {{ $labels.<name> }}, and write {{ "{{" }} for a literal "{{"`,
          );
      }
      if (names.has(alert.alert)) {
        at(
          [...base, 'alerts', 'custom', i, 'alert'],
          `custom alert name "${alert.alert}" is already used by custom[${names.get(alert.alert)}] of service "${service.name}"; alert names must be unique per service`,
        );
      } else if (ALERT_NAMES.has(alert.alert)) {
        // the generated alert and the custom one would share a name, a runbook URL and a silence
        at(
          [...base, 'alerts', 'custom', i, 'alert'],
          `custom alert name "${alert.alert}" is the name of an alert the platform generates for every service (core/alert-names.ts); give the custom alert its own name, e.g. "${service.name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase())}${alert.alert}"`,
        );
      }
      names.set(alert.alert, i);
    });

    const duration = monitoring.metrics?.duration;
    if (alerts.latencyP95Seconds !== undefined && !servesHttp(service) && !(duration && 'histogram' in duration)) {
      at(
        [...base, 'alerts', 'latencyP95Seconds'],
        `service "${service.name}" sets http: false, so there is no http_request_duration_seconds to alert on; name its latency histogram in monitoring.metrics.duration.histogram, remove latencyP95Seconds or set monitoring.http: true`,
      );
    }
    if (alerts.latencyMeanSeconds !== undefined) {
      if (servesHttp(service)) {
        at(
          [...base, 'alerts', 'latencyMeanSeconds'],
          `service "${service.name}" serves HTTP, whose latency is alerted on its p95 (latencyP95Seconds); latencyMeanSeconds is for services with http: false and a monitoring.metrics.duration.sum`,
        );
      } else if (!(duration && 'sum' in duration && (duration.count ?? monitoring.metrics?.requests))) {
        at(
          [...base, 'alerts', 'latencyMeanSeconds'],
          `service "${service.name}" has no monitoring.metrics.duration {sum, count} (or sum and metrics.requests) to compute a mean latency from; add them or remove latencyMeanSeconds`,
        );
      }
    }
    if (monitoring.metrics && servesHttp(service)) {
      at(
        [...base, 'metrics'],
        `service "${service.name}" serves HTTP, whose rate, errors and duration come from http_requests_total and http_request_duration_seconds; monitoring.metrics is for services with http: false`,
      );
    }
    if (monitoring.thresholds) {
      checkThresholds(monitoring.thresholds, [...base, 'thresholds'], at);
      checkOverriddenRatios(config, service.name, monitoring.thresholds, [...base, 'thresholds'], at);
    }
    if (!scraped) {
      const appMetrics = [
        'latencyP95Seconds',
        'latencyMeanSeconds',
        'orderLatency',
        'orderRejectionRatio',
        'marketDataStaleSeconds',
        'drawdownRatio',
        'custom',
      ] as const;
      for (const key of appMetrics) {
        if (alerts[key] !== undefined) {
          at(
            [...base, 'alerts', key],
            `service "${service.name}" has no port named "${METRICS_PORT}", so Prometheus scrapes nothing to alert on; add ports: [{name: ${METRICS_PORT}, port: 9090}] or remove the alert`,
          );
        }
      }
      if (monitoring.slo)
        at(
          [...base, 'slo'],
          `service "${service.name}" has no port named "${METRICS_PORT}", so there is no error ratio to measure the SLO with; add a metrics port or remove the SLO`,
        );
      if (monitoring.interval)
        at(
          [...base, 'interval'],
          `service "${service.name}" has no port named "${METRICS_PORT}" to scrape; add a metrics port or remove interval`,
        );
    }
  }
}

/**
 * A service that overrides only one of the HTTP error ratios is held to the other one of the
 * environment: the warning must still come before the critical alert once the two are merged
 * (checkThresholds sees an override only on its own).
 */
function checkOverriddenRatios(
  config: TargetConfig,
  name: string,
  own: ThresholdOverrides,
  p: PathSegment[],
  at: (p: PathSegment[], message: string) => void,
): void {
  const errors = own.httpErrors;
  if (!errors || (errors.warning === undefined) === (errors.critical === undefined)) return;
  const inherited = config.monitoring.thresholds.httpErrors;
  const warning = errors.warning ?? inherited.warning;
  const critical = errors.critical ?? inherited.critical;
  if (warning < critical) return;
  const from = 'monitoring.thresholds.httpErrors';
  at(
    [...p, 'httpErrors', errors.warning !== undefined ? 'warning' : 'critical'],
    errors.warning !== undefined
      ? `the warning ratio (${warning}) of service "${name}" must be below the critical ratio it inherits (${critical}, ${from}.critical): the warning comes first; lower it, or set critical here too`
      : `the critical ratio (${critical}) of service "${name}" must be above the warning ratio it inherits (${warning}, ${from}.warning): the warning comes first; raise it, or set warning here too`,
  );
}

const UNIT_ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];

/**
 * Why a string is not a Prometheus duration, or undefined when it is one: units from the largest
 * to the smallest, each at most once ("1h30m", not "30m1h"), and not zero.
 */
export function prometheusDurationError(text: string): string | undefined {
  const parts = [...text.matchAll(/([0-9]+)(ms|s|m|h|d|w|y)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text)
    return `"${text}" is not a Prometheus duration; write a number and a unit (ms, s, m, h, d, w, y) such as "30s", "5m" or "1h30m"`;
  const order = parts.map((p) => UNIT_ORDER.indexOf(p[2]));
  if (order.some((o, i) => i > 0 && o <= order[i - 1]))
    return `"${text}" is not a Prometheus duration: units must go from the largest to the smallest, each once (e.g. "1h30m", not "30m1h")`;
  if (parts.every((p) => Number(p[1]) === 0)) return `"${text}" is zero; a window or a for: duration must be positive`;
  return undefined;
}

/** The standard thresholds (the environment's or a service's overrides): valid durations, warning below critical. */
function checkThresholds(
  thresholds: StandardThresholds | ThresholdOverrides,
  p: PathSegment[],
  at: (p: PathSegment[], message: string) => void,
): void {
  for (const [block, values] of Object.entries(thresholds ?? {})) {
    for (const key of ['for', 'window'] as const) {
      const value = (values as Record<string, unknown>)?.[key];
      if (typeof value !== 'string') continue;
      const error = prometheusDurationError(value);
      if (error) at([...p, block, key], error);
    }
  }
  const errors = (thresholds as ThresholdOverrides).httpErrors;
  if (errors?.warning !== undefined && errors.critical !== undefined && errors.warning >= errors.critical) {
    at(
      [...p, 'httpErrors', 'warning'],
      `the warning ratio (${errors.warning}) must be below the critical ratio (${errors.critical}): the warning comes first. Ratios are between 0 and 1 (0.01 is 1%)`,
    );
  }
}
