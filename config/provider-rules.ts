import { closest } from 'fastest-levenshtein';
import { CLUSTER_SECRET_STORE_PROVIDER_SCHEMA } from '../imports/clustersecretstore-provider-schema';
import { PathSegment, show } from './errors';
import { CREDENTIAL_NAME } from './credential-names';
import type { Obj } from '../core/manifest';

/** The part of JSON Schema the CRD's provider schema uses (bin/provider-schema.ts). */
interface Schema {
  readonly type?: string | string[];
  readonly enum?: unknown[];
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly required?: string[];
  readonly nullable?: boolean;
  readonly properties?: Record<string, Schema>;
  readonly additionalProperties?: boolean | Schema;
  readonly items?: Schema;
}

/** One problem of a provider block; `path` is relative to `secretStore.provider`. */
export interface ProviderProblem {
  readonly path: PathSegment[];
  /** The problem is the key at `path` (its line is the key's). */
  readonly key?: boolean;
  readonly message: string;
}

const WHAT = 'the ClusterSecretStore CRD (external-secrets.io/v1)';
// the compiled patterns of the CRD's schema (imports/clustersecretstore-provider-schema.ts): a
// fixed set, the same for every configuration, so kept for the life of the process
const patterns = new Map<string, RegExp>();

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(expected: string, actual: string): boolean {
  return expected === actual || (expected === 'number' && actual === 'integer');
}

/**
 * Checks `value` against the CRD's schema: what Kubernetes would prune silently (a key the CRD
 * does not know, e.g. `externalId` where the CRD says `externalID`) is refused with the nearest
 * valid key, and so are wrong types, values outside an enum or pattern and missing required
 * fields. The provider block is small: walking it with the schema costs nothing, where compiling
 * the CRD's schema (43 providers) into an ajv validator costs more than a whole synth.
 */
function validate(schema: Schema, value: unknown, path: PathSegment[], out: ProviderProblem[]): void {
  const actual = typeOf(value);
  if (value === null && schema.nullable) return;
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => typeMatches(t, actual))) {
      out.push({ path, message: `${show(value)} has the wrong type: expected ${types.join(' or ')} (${WHAT})` });
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(value)) {
    out.push({
      path,
      message: `${show(value)} is not allowed; allowed: ${schema.enum.map((v) => show(v)).join(', ')} (${WHAT})`,
    });
  }
  if (typeof value === 'string') {
    if (schema.pattern) {
      let re = patterns.get(schema.pattern);
      if (!re) patterns.set(schema.pattern, (re = new RegExp(schema.pattern, 'u')));
      if (!re.test(value))
        out.push({
          path,
          message: `${show(value)} is not valid; expected a value matching ${schema.pattern} (${WHAT})`,
        });
    }
    if (schema.minLength !== undefined && value.length < schema.minLength)
      out.push({ path, message: `${show(value)} is too short: at least ${schema.minLength} characters (${WHAT})` });
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      out.push({ path, message: `${show(value)} is too long: at most ${schema.maxLength} characters (${WHAT})` });
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      out.push({ path, message: `${value} is out of range: must be >= ${schema.minimum} (${WHAT})` });
    if (schema.maximum !== undefined && value > schema.maximum)
      out.push({ path, message: `${value} is out of range: must be <= ${schema.maximum} (${WHAT})` });
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      out.push({ path, message: `has ${value.length} item(s); at least ${schema.minItems} (${WHAT})` });
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      out.push({ path, message: `has ${value.length} item(s); at most ${schema.maxItems} (${WHAT})` });
    if (schema.items) value.forEach((item, i) => validate(schema.items!, item, [...path, i], out));
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (schema.minProperties !== undefined && keys.length < schema.minProperties)
      out.push({ path, message: `needs at least ${schema.minProperties} key(s) (${WHAT})` });
    if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) {
      out.push({
        path,
        message: `has ${keys.length} keys (${keys.join(', ')}); at most ${schema.maxProperties} (${WHAT})${path.length === 0 ? ': one provider per store' : ''}`,
      });
    }
    for (const required of schema.required ?? []) {
      if (!(required in object))
        out.push({ path, message: `is missing "${required}", which ${WHAT} requires here; add it` });
    }
    const known = schema.properties ?? {};
    for (const key of keys) {
      const child = Object.prototype.hasOwnProperty.call(known, key) ? known[key] : undefined;
      if (child) {
        validate(child, object[key], [...path, key], out);
      } else if (schema.additionalProperties === false) {
        const names = Object.keys(known);
        const suggestion = names.length ? closest(key, names) : undefined;
        out.push({
          path: [...path, key],
          key: true,
          message: `unknown key ${show(key)}; ${suggestion ? `did you mean "${suggestion}"? ` : ''}allowed keys: ${names.join(', ')} (${WHAT}; Kubernetes would drop it silently)`,
        });
      } else if (typeof schema.additionalProperties === 'object') {
        validate(schema.additionalProperties, object[key], [...path, key], out);
      }
    }
  }
}

/** HTTP headers that carry a credential (RFC 9110's Authorization, cookies, the usual API-key headers). */
const CREDENTIAL_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|apikey|x-auth-token|x-access-token|private-token|x-vault-token)$/i;

/**
 * The provider block of `secretStore`, checked against the CRD's schema and for secret material
 * written inline: the `fake` provider's data (the secret values themselves) and webhook headers
 * that carry a credential literally. Credentials come from the provider's secretRef fields (the
 * webhook provider's `secrets:`, used in a header as a template such as `{{ .auth.token }}`).
 * The generic scan of every value (config/secret-rules.ts) runs on the provider block too.
 */
export function providerProblems(provider: unknown): ProviderProblem[] {
  const out: ProviderProblem[] = [];
  validate(CLUSTER_SECRET_STORE_PROVIDER_SCHEMA as Schema, provider, [], out);
  const block = provider as Obj;
  const fake = block?.fake?.data;
  if (Array.isArray(fake)) {
    fake.forEach((entry: Record<string, unknown>, i: number) => {
      for (const field of ['value', 'valueMap']) {
        if (entry && entry[field] !== undefined && entry[field] !== '') {
          out.push({
            path: ['fake', 'data', i, field],
            message:
              'the fake provider keeps the secret values in the ClusterSecretStore itself, which is written to dist/ in plain text; use a provider backed by a secret manager (aws, gcpsm, vault, ...) whose credentials come from secretRefs',
          });
        }
      }
    });
  }
  const headers = block?.webhook?.headers;
  if (headers && typeof headers === 'object') {
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
      if (typeof value !== 'string' || value.includes('{{')) continue;
      if (CREDENTIAL_HEADER.test(name) || CREDENTIAL_NAME.test(name)) {
        out.push({
          path: ['webhook', 'headers', name],
          message: `header ${show(name)} carries a credential written to dist/ in plain text; list the credential under webhook.secrets: [{name: auth, secretRef: {name: ..., key: ...}}] and write the header as a template, e.g. "Bearer {{ .auth.token }}"`,
        });
      }
    }
  }
  return out;
}
