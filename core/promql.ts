/**
 * PromQL at synth time, with the Prometheus project's own grammar (`@prometheus-io/lezer-promql`,
 * the parser behind the Prometheus web UI). Lezer never throws: a syntax error shows up as an
 * error node (`⚠`) in the tree, so every expression is walked and any error node refused.
 *
 * The package ships a CommonJS build (`dist/index.cjs`, its `require` export), so it loads
 * synchronously from the compiled (commonjs) synth.
 */
import { parser } from '@prometheus-io/lezer-promql';
import { synthesisMemo } from './synthesis-memo';

/** One syntax error: where it is (0-based character offset) and what the parser stopped at. */
export interface PromqlSyntaxError {
  readonly offset: number;
  readonly message: string;
}

/** Whether an expression of a given shape (see `shapeOf`) parses; remembered for one synthesis. */
const shapes = synthesisMemo<string, boolean>();

/**
 * `expr` with the text of every simple string literal removed (`job="gateway"` → `job=""`). The
 * grammar gives a string's content no meaning, so two expressions of one shape are both valid or
 * both not: the rules of a thousand services are a handful of shapes that differ only in their
 * matchers' values. Literals with escapes or the other quote inside are kept as written.
 */
export function shapeOf(expr: string): string {
  return expr.replace(/"[^"\\\n]*"/g, '""').replace(/'[^'\\\n]*'/g, "''");
}

/** Every syntax error of `expr`; an empty list means the grammar accepts it. */
export function promqlErrors(expr: string): PromqlSyntaxError[] {
  // the same shape is checked by the config rules, the constructs and the dashboards of every
  // service and target: parse it once, and the expression itself only to describe an error
  const shape = shapeOf(expr);
  let valid = shapes.get(shape);
  if (valid === undefined) {
    valid = parseErrors(shape).length === 0;
    shapes.set(shape, valid);
  }
  return valid ? [] : parseErrors(expr);
}

function parseErrors(expr: string): PromqlSyntaxError[] {
  if (expr.trim() === '') return [{ offset: 0, message: 'the expression is empty' }];
  const errors: PromqlSyntaxError[] = [];
  const seen = new Set<number>();
  parser.parse(expr).iterate({
    enter(node) {
      if (!node.type.isError || seen.has(node.from)) return;
      seen.add(node.from);
      errors.push({ offset: node.from, message: describeAt(expr, node.from) });
    },
  });
  return errors;
}

function describeAt(expr: string, offset: number): string {
  if (offset >= expr.trimEnd().length)
    return `the expression ends too early (after ${JSON.stringify(tail(expr, expr.length))})`;
  const near = expr.slice(offset, offset + 12);
  return `unexpected ${JSON.stringify(near)} at character ${offset + 1} (after ${JSON.stringify(tail(expr, offset))})`;
}

function tail(expr: string, offset: number): string {
  const before = expr.slice(0, offset).trimEnd();
  return before.length > 24 ? `...${before.slice(-24)}` : before;
}

/** One line saying why `expr` is not valid PromQL, or undefined when it is. */
export function promqlError(expr: string): string | undefined {
  const errors = promqlErrors(expr);
  if (!errors.length) return undefined;
  return `PromQL syntax error: ${errors[0].message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`;
}

/** `{a: 'x', b: 'y'}` → `a="x",b="y"` (values escaped as PromQL strings). */
export function matchers(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
}

/**
 * Adds `labels` as equality matchers to every vector selector of `expr` that does not already
 * match on that label, so an expression written for one service in an environment file selects
 * that service's series only (`up == 0` → `up{namespace="trading-prod",job="redis"} == 0`).
 * A matcher the expression sets itself is kept as written. `expr` must parse.
 */
export function scopeSelectors(expr: string, labels: Record<string, string>): string {
  const insertions: Array<{ at: number; text: string }> = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter(node) {
      if (node.name !== 'VectorSelector') return;
      const selector = node.node;
      const matcherList = selector.getChild('LabelMatchers');
      const present = new Set<string>();
      if (matcherList) {
        for (let c = matcherList.firstChild; c; c = c.nextSibling) {
          const name = c.getChild('LabelName') ?? c.getChild('QuotedLabelName');
          if (name) present.add(expr.slice(name.from, name.to).replace(/^"|"$/g, ''));
        }
      }
      const missing = Object.fromEntries(Object.entries(labels).filter(([k]) => !present.has(k)));
      if (!Object.keys(missing).length) return;
      if (matcherList) {
        const hasAny = expr.slice(matcherList.from + 1, matcherList.to - 1).trim() !== '';
        insertions.push({ at: matcherList.from + 1, text: `${matchers(missing)}${hasAny ? ',' : ''}` });
      } else {
        const name = selector.getChild('Identifier');
        insertions.push({ at: name ? name.to : selector.to, text: `{${matchers(missing)}}` });
      }
    },
  });
  let out = expr;
  for (const { at, text } of insertions.sort((a, b) => b.at - a.at)) out = out.slice(0, at) + text + out.slice(at);
  return out;
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/** A Prometheus duration (`30s`, `1h30m`) in seconds. */
export function durationSeconds(duration: string): number {
  const parts = [...duration.matchAll(/([0-9]+)(ms|s|m|h|d|w|y)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== duration)
    throw new Error(`"${duration}" is not a Prometheus duration such as "30s" or "1h30m"`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_SECONDS[unit], 0);
}

/** Seconds as the shortest Prometheus duration (`90` → `1m30s`, `300` → `5m`). */
export function formatDuration(seconds: number): string {
  let rest = Math.round(seconds * 1000);
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of [
    ['d', 86400000],
    ['h', 3600000],
    ['m', 60000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

/** A number as PromQL writes it, without floating-point noise (`1 - 99.9 / 100` → `0.001`). */
export function num(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** Aggregations that may return several series even without `by`. */
const MANY_SERIES_AGGREGATIONS = new Set(['topk', 'bottomk', 'count_values', 'limitk', 'limit_ratio']);
/** Functions whose result is one value whatever their argument. */
const ONE_VALUE_FUNCTIONS = new Set(['scalar', 'vector', 'time', 'pi', 'absent', 'absent_over_time']);

/**
 * Whether `expr` (which must parse) returns at most one value whatever the series it reads: a
 * number, an aggregation without `by`/`without` (or `by (le)` under histogram_quantile), scalar(),
 * or functions and arithmetic of those. A consumer that needs a single value (KEDA's prometheus
 * trigger refuses a result of several elements) is protected only by this shape, so the check is
 * conservative: a query it cannot prove to be one value is reported.
 */
export function returnsOneValue(expr: string): boolean {
  const root = parser.parse(expr).topNode.firstChild;
  return root !== null && oneValue(root, expr, []);
}

type Node = NonNullable<ReturnType<typeof parser.parse>['topNode']['firstChild']>;

function oneValue(node: Node, expr: string, grouped: readonly string[]): boolean {
  const children: Node[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) children.push(c);
  const text = (n: Node) => expr.slice(n.from, n.to);
  switch (node.name) {
    case 'NumberDurationLiteral':
    case 'NumberLiteral':
    case 'StringLiteral':
      return true;
    case 'ParenExpr':
    case 'SubqueryExpr':
      return children.length > 0 && oneValue(children[0], expr, grouped);
    case 'UnaryExpr':
      return oneValue(children[children.length - 1], expr, grouped);
    case 'BinaryExpr': {
      const sides = children.filter(isExpression);
      return (
        sides.length === 2 && oneValue(sides[0], expr, grouped) && oneValue(sides[sides.length - 1], expr, grouped)
      );
    }
    case 'AggregateExpr': {
      const op = children.find((c) => c.name === 'AggregateOp');
      if (op && MANY_SERIES_AGGREGATIONS.has(text(op).toLowerCase())) return false;
      const modifier = children.find((c) => c.name === 'AggregateModifier');
      if (!modifier) return true;
      if (!modifier.getChild('By')) return false;
      const labels = modifier.getChild('GroupingLabels')?.getChildren('LabelName').map(text) ?? [];
      return labels.every((l) => grouped.includes(l));
    }
    case 'FunctionCall': {
      const name = text(children.find((c) => c.name === 'FunctionIdentifier')!);
      if (ONE_VALUE_FUNCTIONS.has(name)) return true;
      const body = children.find((c) => c.name === 'FunctionCallBody');
      const args: Node[] = [];
      for (let c = body?.firstChild ?? null; c; c = c.nextSibling) args.push(c);
      // histogram_quantile folds the buckets' `le` into one value per remaining label set
      if (name === 'histogram_quantile') return args.length === 2 && oneValue(args[1], expr, [...grouped, 'le']);
      const vectors = args.filter((a) => !['NumberDurationLiteral', 'NumberLiteral', 'StringLiteral'].includes(a.name));
      return vectors.every((a) => oneValue(a, expr, grouped));
    }
    default:
      return false;
  }
}

function isExpression(node: Node): boolean {
  return [
    'AggregateExpr',
    'BinaryExpr',
    'FunctionCall',
    'MatrixSelector',
    'NumberDurationLiteral',
    'NumberLiteral',
    'OffsetExpr',
    'ParenExpr',
    'StepInvariantExpr',
    'StringLiteral',
    'SubqueryExpr',
    'UnaryExpr',
    'VectorSelector',
  ].includes(node.name);
}
