/**
 * Alert annotations are Go templates: Prometheus expands `{{ ... }}` in every annotation and label
 * of an alerting rule, and refuses to load a rule file whose templates do not parse (so one stray
 * `{{` breaks the whole PrometheusRule). Plain text is escaped (`escapeTemplate`); text meant as a
 * template is checked (`templateError`) for what commonly breaks it. A leaf helper.
 */

/** `text` as a Go template that prints it literally: `{{` becomes `{{ "{{" }}`. */
export function escapeTemplate(text: string): string {
  return text.includes('{{') ? text.split('{{').join('{{ "{{" }}') : text;
}

/** Functions and keywords a Prometheus alert template may call (Go's text/template and Prometheus's own). */
const KNOWN = new Set([
  // text/template keywords and built-ins
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
  'nil',
  'true',
  'false',
  'and',
  'or',
  'not',
  'call',
  'html',
  'index',
  'slice',
  'js',
  'len',
  'print',
  'printf',
  'println',
  'urlquery',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  // Prometheus template functions (docs: Configuration > Template reference)
  'query',
  'first',
  'label',
  'value',
  'strvalue',
  'sortByLabel',
  'args',
  'reReplaceAll',
  'safeHtml',
  'match',
  'title',
  'toUpper',
  'toLower',
  'stripPort',
  'stripDomain',
  'graphLink',
  'tableLink',
  'pathPrefix',
  'externalURL',
  'parseDuration',
  'humanize',
  'humanize1024',
  'humanizeDuration',
  'humanizePercentage',
  'humanizeTimestamp',
  'toTime',
  'toDuration',
  'now',
  'urlUnescape',
]);
/** Variables Prometheus defines for an alert template. */
const PREDEFINED = new Set(['$', '$labels', '$externalLabels', '$externalURL', '$value']);
const OPENS_BLOCK = new Set(['if', 'range', 'with', 'define', 'block']);

/**
 * Why Prometheus would refuse `text` as a template, or undefined: an unclosed `{{`, an empty
 * action, an unknown function or variable, an unterminated string, unbalanced parentheses or
 * `if`/`range`/`with` blocks.
 */
export function templateError(text: string): string | undefined {
  const declared = new Set(PREDEFINED);
  let blocks = 0;
  let at = 0;
  for (;;) {
    const open = text.indexOf('{{', at);
    if (open < 0) break;
    // the action runs to the first "}}" outside a string or character literal
    let i = open + 2;
    let close = -1;
    let quote: string | undefined;
    for (; i < text.length; i++) {
      const c = text[i];
      if (quote) {
        if (c === '\\' && quote !== '`') i++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === '`' || c === "'") {
        quote = c;
      } else if (c === '}' && text[i + 1] === '}') {
        close = i;
        break;
      }
    }
    if (close < 0)
      return quote
        ? `a string in the action at character ${open + 1} is not terminated`
        : `"{{" at character ${open + 1} is never closed by "}}"`;
    let body = text.slice(open + 2, close);
    if (body.startsWith('-')) body = body.slice(1);
    if (body.endsWith('-')) body = body.slice(0, -1);
    body = body.trim();
    at = close + 2;
    if (body.startsWith('/*') && body.endsWith('*/')) continue;
    if (!body) return `the action at character ${open + 1} is empty ("{{}}")`;
    // words outside literals
    const code = body.replace(/"(\\.|[^"\\])*"|`[^`]*`|'(\\.|[^'\\])*'/g, '""');
    let depth = 0;
    for (const c of code) {
      depth += c === '(' ? 1 : c === ')' ? -1 : 0;
      if (depth < 0) break;
    }
    if (depth !== 0) return `the parentheses of the action at character ${open + 1} are unbalanced`;
    for (const match of code.matchAll(/(\$[A-Za-z0-9_]*)\s*(:?=)?|(^|[^.\w$])([A-Za-z_][A-Za-z0-9_]*)/g)) {
      if (match[1]) {
        if (match[2]) declared.add(match[1]);
        else if (!declared.has(match[1]))
          return `the variable ${match[1]} at character ${open + 1} is not defined; Prometheus defines $value, $labels and $externalLabels`;
      } else if (match[4] && !KNOWN.has(match[4])) {
        return `"${match[4]}" at character ${open + 1} is not a template function; write {{ "{{" }} for a literal "{{"`;
      }
    }
    const first = /^[A-Za-z_]+/.exec(code)?.[0];
    if (first && OPENS_BLOCK.has(first)) blocks++;
    else if (first === 'end' && --blocks < 0) return `{{ end }} at character ${open + 1} closes no if, range or with`;
  }
  return blocks > 0 ? 'an if, range or with block is never closed by {{ end }}' : undefined;
}
