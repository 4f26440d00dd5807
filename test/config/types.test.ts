import Ajv from 'ajv';
import type { Static } from '@sinclair/typebox';
import { AJV_OPTIONS } from '../../config/compiled-validators';
import { definitions, target } from '../../config/schema';
import type { ExternalPeer, FeatureFlag, ServiceConfig, TargetConfig } from '../../config/types';

/**
 * One definition (config/schema.ts) gives both the JSON Schema and the TypeScript types. The
 * checks at the top are for the compiler: `npm test` runs `tsc` over test/, so a type that no
 * longer follows the schema, or a schema that no longer refuses what the type refuses, fails it.
 */

/** True when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(): T | undefined => undefined;

// a field added to a definition is a field of the type, with nothing kept in step by hand: the
// types have the schema's fields and only what the loader adds (names from map keys, the target's identity)
assertType<Equal<keyof ServiceConfig, keyof Static<typeof definitions.service> | 'name'>>();
assertType<Equal<keyof ExternalPeer, keyof Static<typeof definitions.externalPeer> | 'name'>>();
assertType<Equal<keyof FeatureFlag, keyof Static<typeof definitions.featureFlag> | 'name'>>();
assertType<
  Equal<
    keyof TargetConfig,
    Exclude<keyof Static<typeof target>, '$schema'> | 'target' | 'environment' | 'region' | 'sources'
  >
>();
// and the schema's types: an enum is a union of literals, `oneOf` a union, `opt()` optional
assertType<Equal<ServiceConfig['workload'], 'deployment' | 'statefulset'>>();
assertType<Equal<ServiceConfig['replicas'], number | { readonly min: number; readonly max: number }>>();
assertType<Equal<ServiceConfig['ingressPath'], string | undefined>>();

const service: Static<typeof definitions.service> = {
  description: 'prices orders',
  component: 'pricing',
  image: 'registry.example.com/pricing:1.0.0',
  ports: [{ name: 'http', port: 8080 }],
  replicas: { min: 2, max: 4 },
  resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  probes: { readiness: { http: { path: '/ready', port: 'http' } } },
};

const unknownField: Static<typeof definitions.service> = {
  ...service,
  // @ts-expect-error the schema has no `replica` (additionalProperties: false), so neither has the type
  replica: 2,
};
const notInEnum: Static<typeof definitions.service> = {
  ...service,
  // @ts-expect-error workload is one of the schema's enum
  workload: 'daemonset',
};
// @ts-expect-error probes is required by the schema
const missingRequired: Static<typeof definitions.service> = { ...service, probes: undefined };
const loaded: ServiceConfig = { ...service, name: 'pricing', workload: 'deployment', expose: 'cluster' };
// @ts-expect-error the configuration is readonly
loaded.replicas = 3;

describe('the configuration types and the schema come from one definition', () => {
  // the service definition with the definitions it refers to, as ajv validates environments/
  const validate = new Ajv(AJV_OPTIONS).compile({ ...definitions.service, definitions });

  it('accepts what the type accepts', () => {
    expect(validate(service)).toBe(true);
  });

  it('refuses what the type refuses', () => {
    expect(validate(unknownField)).toBe(false);
    expect(validate.errors?.map((e) => e.keyword)).toContain('additionalProperties');
    expect(validate(notInEnum)).toBe(false);
    expect(validate.errors?.map((e) => e.keyword)).toContain('enum');
    expect(validate(JSON.parse(JSON.stringify(missingRequired)))).toBe(false);
    expect(validate.errors?.map((e) => e.keyword)).toContain('required');
  });
});
