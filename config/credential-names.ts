/**
 * Names (environment variables, ConfigMap keys) that must never carry a literal value: the word
 * anywhere in the name for the unambiguous ones (PASSWORD, SECRET, TOKEN, API_KEY, ...), or as a
 * whole segment between `_`, `-` or `.` for the short ones (KEY, PASS, PWD; AUTH and COOKIE as the
 * last segment), so that JWT_SIGNING_KEY, HMAC_KEY, REDIS_PASS, PG_PWD and BASIC_AUTH are caught
 * while LEADER_ELECTION_LEASE, KEYSPACE, BYPASS_CACHE or AUTH_SERVICE_URL are not. A KEY segment followed by a segment that names where the key is
 * rather than the key (KEY_FILE, KEY_PATH, KEY_ID, KEY_PREFIX, KEY_NAME) is not a credential.
 */
export const CREDENTIAL_NAME = new RegExp(
  [
    'PASSWORD',
    'PASSWD',
    'PASSPHRASE',
    'SECRET',
    'TOKEN',
    'API_?KEY',
    'PRIVATE_?KEY',
    'CREDENTIAL',
    'ACCESS_?KEY',
    'DSN',
    'DATABASE_URL',
    'CONNECTION_?STRING',
    'WEBHOOK',
    '(^|[-_.])KEY($|[-_.](?!(FILE|PATH|ID|PREFIX|NAME|SUFFIX)($|[-_.])))',
    '(^|[-_.])(PASS|PWD)($|[-_.])',
    '(^|[-_.])(AUTH|COOKIE)$',
  ].join('|'),
  'i',
);

/**
 * Names of connection URLs of a database, cache or message broker (POSTGRES_URL, REDIS_URI,
 * AMQP_URL): `scheme://user:password@host` carries the password in the URL itself.
 */
export const CONNECTION_URL_NAME =
  /(^|[-_.])(DB|DATABASE|POSTGRES|POSTGRESQL|PG|MYSQL|MARIADB|MSSQL|SQL|MONGO|MONGODB|REDIS|RABBITMQ|RABBIT|AMQP|AMQPS|MQ|BROKER|NATS|KAFKA)[-_.](.*[-_.])?(URL|URI|ADDR|ADDRESS|ENDPOINT)($|[-_.])/i;

/**
 * Whether a literal `name: value` (an env variable or a ConfigMap key) would write a credential to
 * dist/: a credential-like name, or a connection URL whose value is not a URL without user
 * information (`redis://redis:6379/0` passes, `postgres://app:pw@db/trading` does not, nor does
 * anything that cannot be read as a URL).
 */
export function looksLikeCredential(name: string, value?: string): boolean {
  if (CREDENTIAL_NAME.test(name)) return true;
  if (!CONNECTION_URL_NAME.test(name)) return false;
  return !/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]+(\/[^@\s]*)?$/i.test(value ?? '');
}
