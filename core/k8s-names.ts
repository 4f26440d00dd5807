/**
 * What the Kubernetes API server accepts as names, label keys and label values
 * (k8s.io/apimachinery/pkg/util/validation), as regular expressions and checks. A leaf helper:
 * the configuration schema, the configuration rules and the check over the rendered manifests
 * (pipeline/api-server-check.ts) use the same definitions.
 */

/** DNS-1123 label: Namespaces, most names inside objects (containers, ports are shorter). */
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** DNS-1035 label: Services (a name that must not start with a digit). */
export const DNS1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
/** DNS-1123 subdomain: the names of most kinds, and the prefix of a label key. */
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** The name part of a label or annotation key, and a non-empty label value: at most 63 characters. */
const QUALIFIED_NAME_PART = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
/**
 * A label or annotation key: an optional DNS-1123 subdomain prefix (at most 253 characters) and "/", then the name. The
 * leading lookaheads bound the work on a long input.
 */
export const LABEL_KEY = `^(?=.{1,317}$)((?=[^/]{1,253}/)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?${QUALIFIED_NAME_PART}$`;
/** A label value: empty, or at most 63 characters of [A-Za-z0-9-_.] starting and ending alphanumeric. */
export const LABEL_VALUE = `^(?=.{0,63}$)(${QUALIFIED_NAME_PART})?$`;

/** A key of a ConfigMap's or Secret's data: at most 253 characters. */
export const CONFIG_MAP_KEY = '^[-._a-zA-Z0-9]+$';

export const MAX_LABEL = 63;
export const MAX_SUBDOMAIN = 253;
/** The API server's limit on all annotations of an object together (keys and values, in bytes). */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;
/** The limit on the data of a ConfigMap or Secret. */
export const MAX_DATA_BYTES = 1024 * 1024;
/** etcd's default request limit (--max-request-bytes), which bounds any object. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

const dns1123Label = new RegExp(DNS1123_LABEL);
const dns1035Label = new RegExp(DNS1035_LABEL);
const dns1123Subdomain = new RegExp(DNS1123_SUBDOMAIN);
const labelKey = new RegExp(LABEL_KEY);
const labelValue = new RegExp(LABEL_VALUE);

/** The rule a name breaks, described, or undefined when it follows it. */
export type NameRule = 'dns1123-label' | 'dns1035-label' | 'dns1123-subdomain' | 'path-segment';

export const NAME_RULES: Record<NameRule, string> = {
  'dns1123-label':
    'a DNS-1123 label: at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit',
  'dns1035-label':
    'a DNS-1035 label: at most 63 lower-case letters, digits and "-", starting with a letter and ending with a letter or digit',
  'dns1123-subdomain': 'a DNS-1123 subdomain: at most 253 characters, DNS-1123 labels joined by "."',
  'path-segment': 'a path segment name: not "." or "..", no "/" or "%", at most 253 characters',
};

/** Whether `name` follows `rule`. */
export function followsNameRule(name: string, rule: NameRule): boolean {
  switch (rule) {
    case 'dns1123-label':
      return name.length <= MAX_LABEL && dns1123Label.test(name);
    case 'dns1035-label':
      return name.length <= MAX_LABEL && dns1035Label.test(name);
    case 'dns1123-subdomain':
      return name.length <= MAX_SUBDOMAIN && dns1123Subdomain.test(name);
    case 'path-segment':
      return name.length > 0 && name.length <= MAX_SUBDOMAIN && name !== '.' && name !== '..' && !/[/%]/.test(name);
  }
}

export const LABEL_KEY_RULE =
  'a label key: an optional DNS-1123 subdomain prefix of at most 253 characters and "/", then a name of at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
export const LABEL_VALUE_RULE =
  'a label value: empty, or at most 63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit';

export function isLabelKey(key: string): boolean {
  return labelKey.test(key);
}

const configMapKey = new RegExp(CONFIG_MAP_KEY);

export function isConfigMapKey(key: string): boolean {
  return key.length <= MAX_SUBDOMAIN && configMapKey.test(key);
}

export function isLabelValue(value: string): boolean {
  return value.length <= MAX_LABEL && labelValue.test(value);
}
