/**
 * cdk8s's `ApiObject.toJson()`, in one pass. The stock method resolves every value of an object
 * (`resolve`: for each value it looks up the app's resolvers, builds a resolution context and
 * copies the key path) and then walks the result again to sanitize it (`sanitizeValue`: sorted
 * keys, no null or undefined values); on tens of thousands of objects that is a large share of
 * synthesis and of its garbage. With the app's built-in resolvers only (Lazy, implicit tokens,
 * number/string unions), doing both in one walk gives the same JSON; test/pipeline/speedups/fast-json.test.ts
 * compares the two on every object of the reference platform and the examples.
 *
 * It is used only inside `withFastToJson`, which pipeline/speedups/index.ts calls unless
 * SYNTH_STOCK turns the `json` speed-up off; every case it does not know (custom resolvers,
 * CDK8S_DISABLE_SORT, a value that is not plain data) goes to the stock method. It reads cdk8s's
 * private fields `props` and `patches` (cdk8s 2.70): test/pipeline/speedups/fast-json.test.ts
 * fails if an upgrade renames them.
 */
import { ApiObject, App, JsonPatch, Lazy } from 'cdk8s';
import type { Obj } from '../../core/manifest';
import { sortedKeys } from '../../core/sorted-keys';

/** What an ApiObject keeps in its private fields (read, never written, by the one-pass walk). */
interface ApiObjectInternals {
  readonly props: Obj;
  readonly patches: JsonPatch[];
}

/** The number of resolvers a cdk8s App has when it is given none of its own. */
const BUILT_IN_RESOLVERS = new App({ outdir: 'unused' }).resolvers.length;

/** Thrown where the one-pass walk would differ from the stock one; the stock method then runs. */
class NotPlain extends Error {}

/** A value after the built-in resolvers, as `resolve` leaves it before recursing. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any value a construct may hold
function resolved(value: any): any {
  for (;;) {
    if (value == null) return value;
    if (value instanceof Lazy) value = value.produce();
    else if (typeof value.resolve === 'function') value = value.resolve();
    else if (value.constructor !== Object && (typeof value.value === 'number' || typeof value.value === 'string'))
      value = { value: value.value };
    else return value;
  }
}

/** `sanitizeValue(resolve(value))` with sorted keys, in one walk. */
function plain(input: unknown): unknown {
  const value = resolved(input);
  if (value == null) return undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(plain);
  if (value.constructor !== Object) throw new NotPlain();
  const out: Record<string, unknown> = {};
  for (const key of sortedKeys(value)) {
    const v = plain(value[key]);
    if (v != null) out[key] = v;
  }
  return out;
}

const stockToJson = ApiObject.prototype.toJson;

function fastToJson(this: ApiObject): Obj {
  if (process.env.CDK8S_DISABLE_SORT || App.of(this).resolvers.length !== BUILT_IN_RESOLVERS)
    return stockToJson.call(this);
  let json: Obj;
  try {
    json = plain({ ...(this as unknown as ApiObjectInternals).props, metadata: this.metadata.toJson() }) as Obj;
  } catch (error) {
    if (error instanceof NotPlain) return stockToJson.call(this);
    throw new Error(`Failed serializing construct at path '${this.node.path}' with name '${this.name}': ${error}`, {
      cause: error,
    });
  }
  const { patches } = this as unknown as ApiObjectInternals;
  const patched: Obj = patches.length ? JsonPatch.apply(json, ...patches) : json;
  // apiVersion, kind and metadata first, then the rest, as the stock method orders them
  const result: Record<string, unknown> = {};
  for (const k of ['apiVersion', 'kind', 'metadata', ...Object.keys(patched)]) if (k in patched) result[k] = patched[k];
  return result;
}

/** Runs `work` with every ApiObject serialized by the one-pass method, and restores the stock one. */
export function withFastToJson<T>(work: () => T): T {
  ApiObject.prototype.toJson = fastToJson;
  try {
    return work();
  } finally {
    ApiObject.prototype.toJson = stockToJson;
  }
}
