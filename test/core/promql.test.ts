import { durationSeconds, formatDuration, num, promqlError, promqlErrors, scopeSelectors } from '../../core/promql';

describe('promqlErrors (the Prometheus lezer grammar)', () => {
  it('accepts valid expressions', () => {
    for (const expr of [
      'up == 0',
      'histogram_quantile(0.99, sum by (namespace, job, le) (rate(x_bucket{job="a"}[1m]))) > 0.0001',
      'slo:sli_error:ratio_rate1h{job="a"} > (14.4 * 0.001) and slo:sli_error:ratio_rate5m{job="a"} > (14.4 * 0.001)',
      'timestamp(m) - m > 10',
    ])
      expect(promqlErrors(expr)).toEqual([]);
  });

  it('finds an unclosed parenthesis and says the expression ends too early', () => {
    expect(promqlError('rate(x[5m]')).toMatch(/^PromQL syntax error: the expression ends too early/);
  });

  it('finds an unknown function and points at it', () => {
    expect(promqlError('rate(x[5m]) > bogus_fn(y)')).toMatch(/unexpected .* at character \d+/);
  });

  it('finds two selectors without an operator', () => {
    expect(promqlErrors('foo bar')).not.toEqual([]);
  });

  it('refuses an empty expression', () => {
    expect(promqlError('  ')).toMatch(/empty/);
  });
});

describe('scopeSelectors', () => {
  const scope = { namespace: 'trading-prod', job: 'redis' };

  it('adds the matchers to a bare selector', () => {
    expect(scopeSelectors('up == 0', scope)).toBe('up{namespace="trading-prod",job="redis"} == 0');
  });

  it('adds the matchers in front of existing ones, inside functions and ranges', () => {
    expect(scopeSelectors('rate(x_total{code=~"5.."}[5m]) / rate(x_total[5m])', scope)).toBe(
      'rate(x_total{namespace="trading-prod",job="redis",code=~"5.."}[5m]) / rate(x_total{namespace="trading-prod",job="redis"}[5m])',
    );
  });

  it('keeps a matcher the expression sets itself', () => {
    expect(scopeSelectors('up{job="other"}', scope)).toBe('up{namespace="trading-prod",job="other"}');
  });

  it('scopes an empty matcher list and a selector by __name__', () => {
    expect(scopeSelectors('up{}', scope)).toBe('up{namespace="trading-prod",job="redis"}');
    expect(scopeSelectors('{__name__="up"}', scope)).toBe('{namespace="trading-prod",job="redis",__name__="up"}');
  });

  it('produces valid PromQL', () => {
    expect(
      promqlErrors(scopeSelectors('sum by (le) (rate(a_bucket[5m] offset 1m)) > on() group_left b', scope)),
    ).toEqual([]);
  });
});

describe('durations and numbers', () => {
  it('converts Prometheus durations both ways', () => {
    expect(durationSeconds('1h30m')).toBe(5400);
    expect(durationSeconds('5s')).toBe(5);
    expect(formatDuration(60)).toBe('1m');
    expect(formatDuration(180000)).toBe('2d2h');
    expect(() => durationSeconds('5 minutes')).toThrow(/not a Prometheus duration/);
  });

  it('writes numbers without floating-point noise', () => {
    expect(num(1 - 99.9 / 100)).toBe('0.001');
    expect(num(0.0001)).toBe('0.0001');
  });
});
