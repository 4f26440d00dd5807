/**
 * The JSON converters that `cdk8s import` generates (cdk8s-plus-28's `imports/k8s.js`, and this
 * project's imports/) drop undefined fields with
 *
 *     Object.entries(result).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {})
 *
 * which copies the object built so far once per key: quadratic in the keys, at every level of
 * every object, and on a large platform a sixth of all serialization and much of its garbage.
 * This hook rewrites that one expression, as those modules load, into a reduction that adds each
 * defined entry to one object: the same keys in the same order, `__proto__` included.
 * test/pipeline/fast-imports.test.ts compares every object of the reference platform and the examples
 * with and without it. Installed by pipeline/synth, before any construct is loaded.
 */
import { addHook } from 'pirates';

export const QUADRATIC = '.reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {})';
const LINEAR = '.reduce(__definedEntry, {})';
// appended, so that line numbers in stack traces stay those of the file on disk
const HELPER = `
function __definedEntry(r, i) {
  if (i[1] === undefined) return r;
  if (i[0] === '__proto__') Object.defineProperty(r, i[0], { value: i[1], enumerable: true, writable: true, configurable: true });
  else r[i[0]] = i[1];
  return r;
}
`;

/** The generated modules: cdk8s-plus-28's Kubernetes API and the CRDs this project imported. */
const GENERATED = /[\\/](cdk8s-plus-28[\\/]lib[\\/]imports[\\/]k8s|imports[\\/][^\\/]+)\.js$/;

/** The source of a generated module with the quadratic expression replaced; other code unchanged. */
export function linearized(code: string): string {
  return code.includes(QUADRATIC) ? code.split(QUADRATIC).join(LINEAR) + HELPER : code;
}

let installed = false;

/** Installs the rewrite for modules loaded from now on (once per thread; workers install their own). */
export function installFastImports(): void {
  if (installed || process.env.CDK8S_STOCK_IMPORTS) return;
  installed = true;
  addHook(linearized, { exts: ['.js'], ignoreNodeModules: false, matcher: (file) => GENERATED.test(file) });
}

installFastImports();
