import { servesHttp } from '../config/monitoring-rules';
import { ALERT } from '../core/alert-names';
import { formatDuration, num } from '../core/promql';
import type { AlertSpec, MonitoringScope, RecordSpec, RuleGroupSpec } from './alert-rules';

/** The SLO period the error budget is spent over. */
export const SLO_PERIOD_DAYS = 30;

/**
 * The multi-window, multi-burn-rate alerts of the Google SRE workbook ("Alerting on SLOs",
 * table 5-8). A pair fires when both its long and its short window burn the error budget at
 * `burnRate` times the sustainable rate: the long window proves it matters, the short one that
 * it is still happening (so the alert resets soon after a fix).
 */
export const BURN_RATE_WINDOWS = [
  { burnRate: 14.4, long: '1h', short: '5m', severity: 'critical', budgetSpent: 0.02 },
  { burnRate: 6, long: '6h', short: '30m', severity: 'critical', budgetSpent: 0.05 },
  { burnRate: 3, long: '1d', short: '2h', severity: 'warning', budgetSpent: 0.1 },
  { burnRate: 1, long: '3d', short: '6h', severity: 'warning', budgetSpent: 0.1 },
] as const;

/** Every window a burn-rate alert reads, each recorded once. */
export const SLO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];

/** The recorded objective (0.999 for 99.9%) and error budget (0.001) of a service's SLO. */
export const OBJECTIVE_RECORD = 'slo:objective:ratio';
export const ERROR_BUDGET_RECORD = 'slo:error_budget:ratio';
/** Share of the period's error budget still unspent (1 = untouched, 0 = spent, below 0 = overspent). */
export const BUDGET_REMAINING_RECORD = 'slo:error_budget_remaining:ratio';

/** The recorded burn rate over `window`: the error ratio divided by the error budget (1 spends it in exactly the period). */
export function burnRateRecord(window: string): string {
  return `slo:burn_rate:ratio_rate${window}`;
}

/** The recorded error ratio of a service over `window` (Sloth/SRE-workbook naming). */
export function errorRatioRecord(window: string): string {
  return `slo:sli_error:ratio_rate${window}`;
}

/**
 * The events an SLO counts as failed. HTTP services: responses with a 5xx status out of all
 * responses (a 4xx is the client's fault). A service without HTTP that declares its own counters
 * (`monitoring.metrics.errors` and `.requests`, as for its dashboard): those. Other services
 * measure orders: `trading_orders_total` with `status="error"` out of all orders. A rejection
 * (`status="rejected"`) is the exchange's decision about a valid order and has its own alert
 * (OrderRejectionRatioHigh); it does not spend the availability budget.
 */
export function sliOf(scope: MonitoringScope): { errors: string; total: string; description: string } {
  if (servesHttp(scope.service)) {
    return {
      errors: `http_requests_total{${scope.app},code=~"5.."}`,
      total: `http_requests_total{${scope.app}}`,
      description: 'requests answered with a 5xx status',
    };
  }
  const metrics = scope.service.monitoring?.metrics;
  if (metrics?.errors && metrics.requests) {
    return {
      errors: `${metrics.errors}{${scope.app}}`,
      total: `${metrics.requests}{${scope.app}}`,
      description: `${metrics.errors} out of ${metrics.requests}`,
    };
  }
  return {
    errors: `trading_orders_total{${scope.app},status="error"}`,
    total: `trading_orders_total{${scope.app}}`,
    description: 'orders failed with status "error"',
  };
}

/**
 * The recording rules and burn-rate alerts of a service's availability SLO, or undefined when
 * the service declares no SLO (or is not scraped).
 */
export function sloRuleGroup(scope: MonitoringScope): RuleGroupSpec | undefined {
  const slo = scope.service.monitoring?.slo;
  if (!slo || !scope.scraped) return undefined;
  const name = scope.service.name;
  const budget = Number((1 - slo.availability / 100).toPrecision(12));
  const sli = sliOf(scope);
  const records: RecordSpec[] = SLO_WINDOWS.map((w) => ({
    record: errorRatioRecord(w),
    expr: `sum by (namespace, job) (rate(${sli.errors}[${w}]))\n  /\nsum by (namespace, job) (rate(${sli.total}[${w}]))`,
  }));
  // the error budget: objective, budget, burn rates and what is left of the period's budget
  const labels = { namespace: scope.namespace, job: name };
  const period = `${SLO_PERIOD_DAYS}d`;
  records.push(
    { record: OBJECTIVE_RECORD, expr: `vector(${num(slo.availability / 100)})`, labels },
    { record: ERROR_BUDGET_RECORD, expr: `vector(${num(budget)})`, labels },
    ...SLO_WINDOWS.map((w) => ({
      record: burnRateRecord(w),
      expr: `${errorRatioRecord(w)}{${scope.app}} / ${num(budget)}`,
    })),
    {
      record: errorRatioRecord(period),
      // the mean of the 5m ratio over the period: cheap to evaluate, unlike a 30-day rate()
      expr: `avg_over_time(${errorRatioRecord('5m')}{${scope.app}}[${period}])`,
    },
    { record: BUDGET_REMAINING_RECORD, expr: `1 - ${errorRatioRecord(period)}{${scope.app}} / ${num(budget)}` },
  );
  const alerts: AlertSpec[] = BURN_RATE_WINDOWS.map((w) => {
    const threshold = `(${num(w.burnRate)} * ${num(budget)})`;
    const exhausted = formatDuration((SLO_PERIOD_DAYS * 86400) / w.burnRate);
    return {
      alert: ALERT.errorBudgetBurn,
      expr: `${errorRatioRecord(w.long)}{${scope.app}} > ${threshold}\nand\n${errorRatioRecord(w.short)}{${scope.app}} > ${threshold}`,
      severity: w.severity,
      labels: { burn_rate: num(w.burnRate), long_window: w.long, short_window: w.short },
      summary: `${name} is burning its ${num(slo.availability)}% availability budget ${num(w.burnRate)}x too fast`,
      description: `{{ $value | humanizePercentage }} of ${name} ${sli.description} over the last ${w.long} (and still over ${w.short}); burning at ${num(w.burnRate)}x the sustainable rate or faster, the ${SLO_PERIOD_DAYS}-day error budget of ${num(budget * 100)}% lasts ${exhausted} at most.`,
      reason: `SRE workbook multi-window multi-burn-rate: ${num(w.burnRate)}x over ${w.long} spends ${num(w.budgetSpent * 100)}% of the ${SLO_PERIOD_DAYS}-day budget, ${w.severity === 'critical' ? 'which needs a page' : 'which needs a ticket, not a page'}; the ${w.short} window stops the alert soon after recovery. The SLO (${num(slo.availability)}%) is set at services.${name}.monitoring.slo.availability in environments/ (the comment there says why)`,
    };
  });
  return { name: `${name}.slo`, rules: [...records, ...alerts] };
}
