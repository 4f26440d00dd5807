/**
 * Manifests as YAML, byte for byte what js-yaml's `dump(manifest, YAML_OPTIONS)` writes, several
 * times faster on the tens of thousands of objects of a large platform.
 *
 * js-yaml decides the style of every scalar anew (plain, quoted, block) by testing it against
 * every YAML type, and most scalars of a target repeat: keys, labels, ports, images. Here the
 * block structure (mappings, sequences, indentation) is written directly, exactly as js-yaml's
 * `writeBlockMapping` and `writeBlockSequence` lay it out, and js-yaml itself still decides how
 * each distinct scalar is written; the decision is remembered. test/pipeline/speedups/yaml-writer.test.ts
 * compares the two on every object of every target and example. Used through
 * pipeline/speedups/index.ts, which calls js-yaml's `dump` instead in stock mode (SYNTH_STOCK).
 */
import { dump } from 'js-yaml';
import { synthesisMemo } from '../../core/synthesis-memo';

/** No line folding, no anchors, and strings a YAML 1.1 reader (kubectl, Argo CD) would take for booleans or numbers quoted. */
export const YAML_OPTIONS = { lineWidth: -1, noRefs: true, noCompatMode: false } as const;

const INDENT = 2;
/** Scalars longer than this are rare (dashboards, descriptions) and not remembered. */
const REMEMBER_UP_TO = 256;
// remembered for one synthesis (core/synthesis-memo.ts)
const values = synthesisMemo<string, string>();
const keys = synthesisMemo<string, string>();
const numbers = synthesisMemo<number, string>();

/** One manifest (plain JSON data) as a YAML document. */
export function toYamlDocument(value: unknown): string {
  return `${node(value, 0, true)}\n`;
}

function node(value: unknown, level: number, compact: boolean): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return stringValue(value, level);
    case 'number':
      return numberValue(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return Array.isArray(value)
        ? sequence(value, level, compact)
        : mapping(value as Record<string, unknown>, level, compact);
    default:
      throw new Error(`cannot write a ${typeof value} as YAML`);
  }
}

function mapping(object: Record<string, unknown>, level: number, compact: boolean): string {
  let out = '';
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value === undefined) continue;
    const text = stringKey(key);
    if (text.length > 1024)
      throw new Error(`a key of ${text.length} characters is not written by this writer: ${text.slice(0, 40)}...`);
    const rendered = node(value, level + 1, false);
    if (compact === false || out !== '') out += newline(level);
    out += text + (rendered.charCodeAt(0) === 10 ? ':' : ': ') + rendered;
  }
  return out === '' ? '{}' : out;
}

function sequence(items: readonly unknown[], level: number, compact: boolean): string {
  if (items.length === 0) return '[]';
  let out = '';
  for (const item of items) {
    const rendered = node(item === undefined ? null : item, level + 1, true);
    if (compact === false || out !== '') out += newline(level);
    out += (rendered.charCodeAt(0) === 10 ? '-' : '- ') + rendered;
  }
  return out;
}

const newlines: string[] = [];
function newline(level: number): string {
  return (newlines[level] ??= `\n${' '.repeat(INDENT * level)}`);
}

/** A string mapping value or sequence item at `level`, as js-yaml writes it. */
function stringValue(value: string, level: number): string {
  // long text of several lines (a dashboard's JSON, a description) in printable ASCII: js-yaml
  // writes it as a literal block, and scanning it to find that out is what costs
  if (value.length > REMEMBER_UP_TO && value.includes('\n') && PRINTABLE_ASCII.test(value))
    return literal(value, level);
  let text = value.length <= REMEMBER_UP_TO ? values.get(value) : undefined;
  if (text === undefined) {
    // js-yaml writes `a: <value>` for a value one level deep
    text = dump({ a: value }, YAML_OPTIONS).slice(3, -1);
    if (value.length <= REMEMBER_UP_TO) values.set(value, text);
  }
  // a block scalar (`|`) is indented by its level; the style itself does not depend on the level
  if (level > 1 && text.charCodeAt(0) === 124) {
    const header = text.slice(0, text.indexOf('\n') + 1);
    return header + dropEndingNewline(indent(value, INDENT * level));
  }
  return text;
}

function stringKey(key: string): string {
  let text = keys.get(key);
  if (text === undefined) {
    const written = dump({ [key]: 0 }, YAML_OPTIONS);
    text = written.slice(0, written.length - ': 0\n'.length);
    keys.set(key, text);
  }
  return text;
}

function numberValue(value: number): string {
  // a Map holds -0 and 0 as one key, and js-yaml writes them differently
  if (Object.is(value, -0)) return dump(value, YAML_OPTIONS).slice(0, -1);
  let text = numbers.get(value);
  if (text === undefined) {
    text = dump(value, YAML_OPTIONS).slice(0, -1);
    numbers.set(value, text);
  }
  return text;
}

/** Line feeds and the printable ASCII characters; js-yaml writes text of these in a block when it has a line feed. */
const PRINTABLE_ASCII = /^[\x20-\x7e\n]*$/;

/** A literal block scalar (`|`), with js-yaml's indentation indicator and chomping. */
function literal(value: string, level: number): string {
  const indicator = /^\n* /.test(value) ? String(INDENT) : '';
  const clip = value.endsWith('\n');
  const keep = clip && (value[value.length - 2] === '\n' || value === '\n');
  const chomp = keep ? '+' : clip ? '' : '-';
  return `|${indicator}${chomp}\n${dropEndingNewline(indent(value, INDENT * Math.max(1, level)))}`;
}

/**
 * js-yaml's `indentString`: every line that is not empty gets the indentation. Split and joined
 * rather than concatenated line by line: a dashboard has hundreds of lines, and the joined
 * string is one flat string, not a rope of hundreds of pieces to flatten when it is written.
 */
function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n');
}

function dropEndingNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
