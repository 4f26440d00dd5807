/**
 * Secrets in text, found the way a secret scanner finds them, and short redacted excerpts for
 * messages. A leaf helper: it imports nothing of the project.
 *
 * Two sets of rules run over each text:
 * - secretlint's recommended rules (`@secretlint/secretlint-rule-preset-recommend`, maintained by
 *   the secretlint project: cloud keys, Git hosting, chat, payment and AI tokens, private keys,
 *   basic-auth URLs, database connection strings). They are called directly through secretlint's
 *   rule interface (`rule.create(context).file(source)`), which is synchronous: the scan runs
 *   inside the synth of each target, on its worker thread, before a file is written. secretlint's
 *   own runner (`@secretlint/core`) is asynchronous only and adds nothing here. Disable comments
 *   (`secretlint-disable`) in a scanned text have no effect: `ignore` reports are dropped.
 * - rules of our own for what those rules leave out on purpose to avoid noise in source code:
 *   AWS access key ids (also AWS's documented examples, which secretlint lets pass), any PEM
 *   private key header, JSON Web Tokens, user information in URLs (`user:password@`, or a long
 *   token as the user) and credentials given as parameters or assignments (`?password=`,
 *   `&access_token=`, `--db-password=`, `PGPASSWORD=`, `password: ...` in an embedded file),
 *   Google API keys, percent-encoded userinfo (`app%3Apw@`), the value of a credential flag given
 *   as the next item of an array (`["--db-password", "hunter2"]`, `["-u", "admin:pw"]`,
 *   `flagValueFindings`), Redis's password settings (`--requirepass pw`, `requirepass=pw`,
 *   `masterauth pw` as a redis.conf line, `redis-cli AUTH pw`, an ACL rule's `>pw`), curl's
 *   user and password in a command (`curl -u admin:pw`, `--user=admin:pw`) and HTTP Authorization headers
 *   (`Authorization: Bearer <token>`, `Basic <base64 of user:password>`). A value that only
 *   refers to a variable (`$(DB_PASSWORD)`, `${DB_PASSWORD}`; in a command also a shell's
 *   `$PASSWORD`) is not a secret.
 *
 * Many short texts are scanned as one (`scanStrings`): the rules cost little per character but
 * a fixed amount per call.
 */

/** One secret inside a text: where it is and what it is. */
export interface SecretFinding {
  /** Offsets of the secret itself (what must never be shown), end exclusive. */
  readonly start: number;
  readonly end: number;
  /** What was found, for a message: "a GitHub token", "a password in a URL (user:password@)". */
  readonly what: string;
  /** The rule that found it (`secretlint/github`, `url-userinfo`, ...). */
  readonly rule: string;
  /** Found in a URL or a parameter list: the fix is to take the credential out of it. */
  readonly inUrl: boolean;
  /** A password (shown as `****`) rather than a token whose first characters name its kind. */
  readonly password: boolean;
}

// ---------------------------------------------------------------------------------------------
// secretlint's recommended rules, called synchronously

/** The part of secretlint's rule interface (@secretlint/types) used here. */
interface SecretlintRule {
  readonly meta: { readonly id: string };
  create(
    context: SecretlintContext,
    options: Record<string, unknown>,
  ): { file?(source: SecretlintSource): void } | void;
}
interface SecretlintContext {
  report(descriptor: { message: string; range: readonly [number, number] | number[] }): void;
  ignore(descriptor: unknown): void;
  createTranslator(messages: unknown): (id: string, props?: unknown) => string;
  readonly sharedOptions: Record<string, unknown>;
}
interface SecretlintSource {
  readonly filePath: string;
  readonly ext: string;
  readonly content: string;
  readonly contentType: 'text';
}

/** What each secretlint rule finds, for messages (the rule id's last part → a phrase). */
const SECRETLINT_WHAT: Record<string, string> = {
  aws: 'an AWS secret access key',
  gcp: 'a GCP service account key',
  privatekey: 'a private key',
  github: 'a GitHub token',
  gitlab: 'a GitLab token',
  slack: 'a Slack token or webhook URL',
  npm: 'an npm token',
  basicauth: 'a password in a URL (user:password@)',
  'database-connection-string': 'a database connection string with a password',
  openai: 'an OpenAI API key',
  anthropic: 'an Anthropic API key',
  sendgrid: 'a SendGrid API key',
  shopify: 'a Shopify token',
  stripe: 'a Stripe key',
  linear: 'a Linear API key',
  '1password': 'a 1Password token',
  docker: 'a Docker registry credential',
  grafana: 'a Grafana token',
  'hashicorp-vault': 'a HashiCorp Vault token',
  azure: 'an Azure credential',
};

interface LoadedRule {
  readonly id: string;
  readonly what: string;
  readonly inUrl: boolean;
  readonly file: (source: SecretlintSource) => void;
}

interface Loaded {
  readonly rules: LoadedRule[];
  /** Where the rules report, emptied around each scan. */
  readonly sink: { found: Array<{ rule: LoadedRule; range: readonly number[] }> };
}

let loaded: Loaded | undefined;

/**
 * secretlint's recommended rules, created once per thread. The package is an ES module; Node
 * (20.19 and later) loads it with `require`, synchronously.
 */
function secretlintRules(): Loaded {
  if (loaded) return loaded;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use (an ES module transpiled by jest, CommonJS at run time)
  const preset = require('@secretlint/secretlint-rule-preset-recommend') as { rules: SecretlintRule[] };
  const sink: Loaded['sink'] = { found: [] };
  const rules: LoadedRule[] = [];
  for (const rule of preset.rules) {
    const short = rule.meta.id.replace(/^@secretlint\/secretlint-rule-/, '');
    const entry: { id: string; what: string; inUrl: boolean; file: (source: SecretlintSource) => void } = {
      id: `secretlint/${short}`,
      what: SECRETLINT_WHAT[short] ?? `a credential (secretlint rule ${short})`,
      inUrl: short === 'basicauth' || short === 'database-connection-string',
      file: () => undefined,
    };
    const context: SecretlintContext = {
      report: (descriptor) => {
        sink.found.push({ rule: entry, range: descriptor.range });
      },
      // a `secretlint-disable` comment inside a scanned value must not hide anything
      ignore: () => undefined,
      // messages are not used: they would repeat the secret
      createTranslator: () => (id: string) => id,
      sharedOptions: {},
    };
    const handlers = rule.create(context, {});
    if (handlers && handlers.file) {
      entry.file = handlers.file.bind(handlers);
      rules.push(entry);
    }
  }
  loaded = { rules, sink };
  return loaded;
}

/** Loads secretlint's rules now (a worker does it while it waits for work). */
export function preloadSecretRules(): void {
  secretlintRules();
}

// ---------------------------------------------------------------------------------------------
// our own rules

/** A value that only refers to a variable: Kubernetes' `$(VAR)` expansion, or `${VAR}`. */
const VARIABLE_REFERENCE = /^(\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[A-Za-z_][A-Za-z0-9_]*\})$/;

const AWS_ACCESS_KEY_ID = /\b(?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16}\b/g;
const PRIVATE_KEY_HEADER = /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
/** header.payload.signature, the first two base64url JSON objects (`{"` is `eyJ`); the signature may be empty (alg none). */
/** A Google API key (Maps, Firebase, Cloud): `AIza` and 35 characters. */
const GOOGLE_API_KEY = /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g;
const JWT = /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;
/**
 * `scheme://userinfo@`: everything between `://` and the first `@` that is not a path, query or
 * fragment (the scheme is not looked at: starting at `://` keeps the pattern fast).
 */
const URL_USERINFO = /:\/\/([^\s/?#@"'<>\\]{1,512})@/g;
/**
 * Credential words that name a credential whatever stands before them (`PGPASSWORD`, `db-password`,
 * `client_secret`), and Redis's two password settings, whose "pass" and "auth" are glued to a
 * word (`--requirepass`, `masterauth=`) where a short word alone would not count.
 */
const STRONG_WORDS =
  'password|passwd|passphrase|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|credentials?|requirepass|masterauth';
/** Short or ambiguous words: only as a whole name (`MYSQL_PWD`, `?key=`, `&sig=`), not inside one (`bypass`, `monkey`). */
const WEAK_WORDS = 'pwd|pass|auth|key|sig|signature';
/**
 * A command-line flag that names a credential (`--password`, `--db-password`, `-token`,
 * `--api-key`, `--auth`): the same words as `name=value`, a short word only as the flag's whole
 * name or its last part. Group 1: the credential word.
 */
const CREDENTIAL_FLAG = new RegExp(
  `^--?(?:[A-Za-z0-9_.-]{0,64}?(${STRONG_WORDS})|(?:[A-Za-z0-9_.-]{0,64}[-_.])?(${WEAK_WORDS}))$`,
  'i',
);
const STRONG = new RegExp(`^(${STRONG_WORDS})$`, 'i');
/**
 * `name=value`: a URL query parameter, a libpq keyword, a command-line flag (`--db-password=`)
 * or a shell assignment (`PGPASSWORD=`). Group 1: the credential word, group 2: the value. The
 * match starts at `=` (fast to find) and looks behind for the word; what stands before the word
 * is checked in code (a pattern for it would backtrack on long words).
 */
const CREDENTIAL_ASSIGNMENT = new RegExp(`=(?<=(${STRONG_WORDS}|${WEAK_WORDS})=)([^\\s&#;'",)]+)`, 'gi');
/** `password: value` / `"password": "value"` in a file embedded in a value (a config file in a ConfigMap); starts at `:`. */
const CREDENTIAL_FIELD = new RegExp(`:(?<=(${STRONG_WORDS})"?[ \\t]*:)[ \\t]*"?([^\\s"',}]+)`, 'gi');
/** Values that say something is off, absent or a number, not a credential (`--use-token=false`). */
const NOT_A_CREDENTIAL = /^(true|false|yes|no|on|off|none|null|nil|empty|required|optional|[0-9]{1,6})$/i;
const NAME_CHAR = /[A-Za-z0-9_.-]/;

/** Whether a value given to an ambiguous name (`key=`, `auth=`, `sig=`) looks like a token rather than a word. */
function tokenLike(value: string): boolean {
  return value.length >= 20 || (value.length >= 12 && /[0-9]/.test(value) && /[A-Za-z]/.test(value));
}

/** Whether `value` is a literal credential rather than a reference, a placeholder or a switch. */
function literalCredential(value: string): boolean {
  return !/^(\$\(|\$\{|\{\{)/.test(value) && !NOT_A_CREDENTIAL.test(value);
}

/**
 * The start of the key that ends with the credential word at `word` (the word itself or a
 * prefix of name characters before it, at most 64), or -1 when the word is glued to more
 * than a key.
 */
function keyStart(text: string, word: number): number {
  let i = word;
  while (i > 0 && word - i < 64 && NAME_CHAR.test(text[i - 1])) i--;
  return i > 0 && NAME_CHAR.test(text[i - 1]) ? -1 : i;
}

/** Whether only blanks (and a list item's `- `) stand between the start of the line and `at`. */
function atLineStart(text: string, at: number): boolean {
  let i = at;
  while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  if (i > 0 && text[i - 1] === '-') {
    i--;
    while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  }
  return i === 0 || text[i - 1] === '\n';
}

function ownFindings(text: string, out: SecretFinding[]): void {
  const add = (start: number, end: number, what: string, rule: string, inUrl: boolean, password: boolean) =>
    out.push({ start, end, what, rule, inUrl, password });
  for (const m of text.matchAll(AWS_ACCESS_KEY_ID))
    add(m.index!, m.index! + m[0].length, 'an AWS access key id', 'aws-access-key-id', false, false);
  // a private key runs from its header to its END line, or to the end of the text when it has none
  let endLine = -2;
  for (const m of text.matchAll(PRIVATE_KEY_HEADER)) {
    const from = m.index! + m[0].length;
    if (endLine !== -1 && endLine < from) endLine = text.indexOf('-----END', from);
    const close = endLine < 0 ? -1 : text.slice(endLine + 8, endLine + 72).indexOf('-----');
    add(
      m.index!,
      endLine < 0 ? text.length : endLine + 8 + (close < 0 ? 0 : close + 5),
      'a private key',
      'private-key',
      false,
      false,
    );
  }
  for (const m of text.matchAll(GOOGLE_API_KEY))
    add(m.index!, m.index! + m[0].length, 'a Google API key', 'google-api-key', false, false);
  for (const m of text.matchAll(JWT)) add(m.index!, m.index! + m[0].length, 'a JSON Web Token', 'jwt', false, false);
  for (const m of text.matchAll(URL_USERINFO)) {
    const userinfo = m[1];
    const at = m.index! + m[0].length - 1 - userinfo.length;
    const colon = userinfo.indexOf(':');
    // percent-encoded userinfo (`app%3Apw@`) is judged decoded; a malformed escape is judged as written
    let decoded = userinfo;
    if (userinfo.includes('%')) {
      try {
        decoded = decodeURIComponent(userinfo);
      } catch {
        decoded = userinfo;
      }
    }
    const decodedColon = decoded.indexOf(':');
    if (colon < 0 && decodedColon >= 0) {
      const password = decoded.slice(decodedColon + 1);
      // offsets of the decoded text do not map back: the whole userinfo is the secret
      if (password && !VARIABLE_REFERENCE.test(password))
        add(
          at,
          at + userinfo.length,
          'a password in a URL (user:password@, percent-encoded)',
          'url-userinfo',
          true,
          true,
        );
    } else if (colon >= 0) {
      const password = userinfo.slice(colon + 1);
      if (password && !VARIABLE_REFERENCE.test(password))
        add(at + colon + 1, at + userinfo.length, 'a password in a URL (user:password@)', 'url-userinfo', true, true);
    } else if (!VARIABLE_REFERENCE.test(decoded) && tokenLike(userinfo)) {
      add(at, at + userinfo.length, 'a token as the user of a URL (token@host)', 'url-userinfo', true, false);
    }
  }
  for (const m of text.matchAll(CREDENTIAL_ASSIGNMENT)) {
    const [, word, value] = m;
    if (!literalCredential(value)) continue;
    if (!STRONG.test(word)) {
      // a short word counts only as a whole name or its last part (MYSQL_PWD, api.key), and `key=`, `auth=`, `sig=` only with a token-like value
      const start = m.index! - word.length;
      if (start > 0 && /[A-Za-z0-9]/.test(text[start - 1])) continue;
      if (!/^(pwd|pass|auth)$/i.test(word) && !tokenLike(value)) continue;
    }
    const end = m.index! + m[0].length;
    // the whole name, for the message: access_token, db-password, PGPASSWORD
    const nameStart = keyStart(text, m.index! - word.length);
    const name = nameStart < 0 ? word : text.slice(nameStart, m.index!).replace(/^[-.]+/, '');
    add(end - value.length, end, `a credential given as "${name}="`, 'credential-parameter', true, true);
  }
  for (const m of text.matchAll(CREDENTIAL_FIELD)) {
    const [, word, value] = m;
    if (!literalCredential(value)) continue;
    // the word ends before the colon, after blanks and a JSON key's closing quote
    let wordEnd = m.index!;
    while (wordEnd > 0 && (text[wordEnd - 1] === ' ' || text[wordEnd - 1] === '\t')) wordEnd--;
    const closingQuote = text[wordEnd - 1] === '"';
    if (closingQuote) wordEnd--;
    // a key of its own: at the start of a line (YAML) or right after a quote (JSON)
    const key = keyStart(text, wordEnd - word.length);
    if (key < 0) continue;
    const quoted = key > 0 && text[key - 1] === '"';
    if (!quoted && !atLineStart(text, key)) continue;
    if (quoted !== closingQuote) continue;
    const end = m.index! + m[0].length;
    add(end - value.length, end, `a credential given as "${word.toLowerCase()}:"`, 'credential-field', false, true);
  }
  commandFindings(text, out);
}

// ---------------------------------------------------------------------------------------------
// our own rules: credentials in command lines, HTTP headers and Redis settings

/**
 * Redis's password settings and their value: as redis.conf writes them (`requirepass foobared`
 * at the start of a line, a config file in a ConfigMap), as redis-server takes them on its
 * command line (`--requirepass foobared` inside a shell command), as `CONFIG SET requirepass
 * foobared` and as an assignment (`requirepass=foobared`; the lookbehind of `name=value` may take
 * its last word, "pass", for the name, which is then glued to a word and does not count). The
 * match starts at the setting's name, a rare word; what stands before it is checked in code.
 * Group 1: the name; group 2: the value after `=` (without its opening quote); group 3: the value
 * after blanks, quoted or not (redis.conf quotes a value with blanks in it).
 */
const REDIS_PASSWORD_SETTING = /(requirepass|masterauth)(?:=["']?([^\s"']+)|[ \t]+("[^"\n]*"|'[^'\n]*'|[^\s"']+))/gi;
/**
 * A user and password given to curl inside a command string: `-u admin:pw`, `-uadmin:pw`, after
 * other short flags (`-fsSu admin:pw`), `--user admin:pw`, `--user=admin:pw`, `--proxy-user`.
 * Starts at `-`; what stands before the flag is checked in code. Group 1: the user, group 2: the
 * password.
 */
const USER_OPTION =
  /-(?:[A-Za-z]{0,8}u|-user|-proxy-user)(?:[ \t]+|=|(?<=-u)(?=\w))["']?([^\s"':]{1,256}):([^\s"';&|<>]+)/g;
/**
 * The password redis-cli takes with `-a` or `--pass` (`redis-cli -a pw ping`), in a command
 * string: `-a` means nothing of the kind to other programs, so the match starts at `redis-cli`.
 * Group 1: the value, quoted or not.
 */
const REDIS_CLI_PASSWORD = /redis-cli\b[^\n;&|]{0,256}?[ \t](?:-a|--pass)[ \t]+("[^"\n]*"|'[^'\n]*'|[^\s"';&|\\]+)/g;
/**
 * Sentinel's password for a master set, as sentinel.conf writes it: `sentinel auth-pass <set> <pw>`.
 * Group 1: the value (up to a backslash: a printf format's `%s\n` is a verb, then an escape).
 */
const SENTINEL_AUTH_PASS = /sentinel[ \t]+auth-pass[ \t]+\S+[ \t]+("[^"\n]*"|'[^'\n]*'|[^\s"'\\]+)/gi;
/**
 * The password of redis-cli's AUTH command (`redis-cli -h redis AUTH pw`, `AUTH user pw`), in a
 * command string; the command in capitals, as Redis's documentation writes it (`auth` in
 * lower case is as often a word of prose: "redis-cli and auth with the password"). Group 1: the
 * first argument, group 2: the second (then the password), each quoted or not.
 */
const REDIS_CLI_AUTH =
  /redis-cli\b[^\n;&|]{0,256}?[ \t]AUTH[ \t]+("[^"\n]*"|'[^'\n]*'|[^\s"';&|\\]+)(?:[ \t]+("[^"\n]*"|'[^'\n]*'|[^\s"';&|\\]+))?/g;
/**
 * A Redis ACL rule for a user (`ACL SETUSER alice on >pw ~* +@all`, or a users.acl line
 * `user alice on >pw ...`): the rest of the line, whose `>pw` and `<pw` items are passwords in
 * plain text (`#<sha256>` is a hash). Group 1: `user` when it is a users.acl line. The match
 * ends at the user's name: the rules are the rest of the line, taken in code. `ACL` must start a
 * word and `user` a line (after blanks): that is checked in code (`aclRuleAt`), as the pattern
 * starting with `\b` or a multi-line `^` made this rule three times slower, the slowest of the
 * scan, on a target's 40 MB. A match rejected there ends at the user's name, not the line's end,
 * so that the scan goes on within the line (an `ACL SETUSER` after a `user` of prose, a users.acl
 * line after a lone `\r`) without going over the line again.
 */
const REDIS_ACL_USER = /(?:[Aa][Cc][Ll][ \t]+[Ss][Ee][Tt][Uu][Ss][Ee][Rr]|(user))[ \t]+[^\s>]\S*/g;
/**
 * What makes a users.acl line's rules ACL rules rather than prose that starts with "user"
 * (`user sessions >10k`): a switch (`on`, `off`) and a key, channel or command rule (`~*`,
 * `&*`, `+@all`, `-debug`, `allkeys`, `allcommands`, `nopass`, `resetpass`).
 */
const ACL_RULES =
  /(?:^|[ \t])(?:on|off)(?=[ \t]|$)[^\n]*?(?:^|[ \t])(?:[~&%+-]\S|allkeys|allchannels|allcommands|nopass|resetpass|reset)/;
/**
 * Whether a match of `REDIS_ACL_USER` at `at` stands where the rule counts: `ACL` at the start of
 * a word, a users.acl `user` at the start of its line (after blanks only).
 */
function aclRuleAt(text: string, at: number, aclFileLine: boolean): boolean {
  if (!aclFileLine) return at === 0 || !/\w/.test(text[at - 1]);
  let i = at;
  while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  return i === 0 || /[\n\r\u2028\u2029]/.test(text[i - 1]); // where a multi-line `^` matches
}

/** The flags of `USER_OPTION`, when the user and password are the next item of an array. */
const USER_FLAG = /^(-u|--user|--proxy-user)$/;
/**
 * An HTTP Authorization (or Proxy-Authorization) header written out, as curl's `-H` or an
 * embedded file takes it: `Authorization: Bearer <token>`, `"Authorization": "Basic <base64>"`.
 * Group 1: the scheme, when there is one; group 2: the credential.
 */
const AUTHORIZATION_HEADER = /authorization"?[ \t]*:[ \t]*"?(?:([A-Za-z][A-Za-z0-9-]{0,31})[ \t]+)?([^\s"',;]+)/gi;
/** Schemes whose credential is a secret however short (`Authorization: Token <key>`). */
const AUTH_SCHEMES = /^(bearer|basic|token|apikey|api-key|key|sso-key|ssws|splunk|dpop)$/i;
/**
 * `Bearer <token>` or `Basic <base64 of user:password>` without the header's name: the value
 * of an HTTP probe's header or of an environment variable. Group 2: the credential (token68, so
 * `Bearer $(TOKEN)` and `Bearer {{ .auth.token }}` do not match).
 */
const AUTH_SCHEME_VALUE = /\b(Bearer|Basic|bearer|basic|BEARER|BASIC)[ \t]+([A-Za-z0-9._~+/-]+=*)/g;

/**
 * Whether `value` is a literal secret rather than something that stands for one: a variable
 * (`$(PW)`, `${PW}`, a shell's `$pw`), a template (`{{ .token }}`), a printf verb (`%s`), a
 * documentation placeholder (`<password>`), a switch or a number, or another flag (`-v`).
 */
function secretValue(value: string): boolean {
  return value !== '' && literalCredential(value) && !/^(\$[A-Za-z_][A-Za-z0-9_]*|%[a-z]|<[^<>]*>|-.*)$/.test(value);
}

/** Whether the command that `at` belongs to (since the last `;`, `&`, `|`, `(` or line) runs curl. */
function inCurlCommand(text: string, at: number): boolean {
  let i = at;
  while (i > 0 && at - i < 512 && !/[;&|(\n]/.test(text[i - 1])) i--;
  return /(^|[\s/"'])curl\s/.test(text.slice(i, at));
}

/**
 * What `--user` takes in docker, chpst or su-exec: a user and a group, names or ids
 * (`redis:redis`, `nobody:nogroup`, `1000:1000`).
 */
const USER_AND_GROUP = /^([a-z_][a-z0-9_-]{0,31}|[0-9]{1,10}):([a-z_][a-z0-9_-]{0,31}|[0-9]{1,10})$/;

/**
 * Whether `password`, given with `user` to `flag`, is a password. When curl runs, any literal is.
 * Elsewhere the short `-u` means other things to every other program (`date -u +%H:%M`,
 * `rsync -u src:dst`, `socat -u A:B`) and never counts; `--user` counts unless it is a user and
 * a group, `--proxy-user` (curl's own) always.
 */
function userPassword(flag: string, user: string, password: string, curl: boolean): boolean {
  if (!secretValue(password)) return false;
  if (curl || flag === '--proxy-user') return true;
  return flag !== '-u' && !USER_AND_GROUP.test(`${user}:${password}`);
}

/** Whether `value` is standard base64 (padded) of printable text with a colon: `Basic`'s user:password. */
function basicCredential(value: string): boolean {
  if (value.length < 8 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return false;
  const decoded = Buffer.from(value, 'base64').toString('latin1');
  return decoded.includes(':') && /^[\x20-\x7e]+$/.test(decoded);
}

/** The rules of this section, after those above, whose findings are in `out`. */
function commandFindings(text: string, out: SecretFinding[]): void {
  // a secret that a rule above already found where it starts (a JWT after `Bearer`) is not reported twice
  const found = new Set(out.map((f) => f.start));
  // none is in a URL: the fix is a variable in the command, header or file, not a URL without its credential
  const add = (start: number, end: number, what: string, rule: string) => {
    if (found.has(start)) return;
    found.add(start);
    out.push({ start, end, what, rule, inUrl: false, password: true });
  };
  for (const m of text.matchAll(REDIS_PASSWORD_SETTING)) {
    const [, name, assignedValue, raw] = m;
    const assigned = assignedValue !== undefined;
    const quoted = !assigned && (raw[0] === '"' || raw[0] === "'");
    const value = assigned ? assignedValue : quoted ? raw.slice(1, -1) : raw;
    if (!secretValue(value)) continue;
    // a setting of its own: redis-server's `--name`, an assignment's name, a config file's line or after CONFIG SET
    const at = m.index!;
    const flag = at >= 2 && text.startsWith('--', at - 2) && (at === 2 || /[\s"'[(]/.test(text[at - 3]));
    const own =
      flag ||
      (assigned
        ? at === 0 || /[\s"'[(,;]/.test(text[at - 1])
        : atLineStart(text, at) || /config[ \t]+set[ \t]+$/i.test(text.slice(Math.max(0, at - 16), at)));
    if (!own) continue;
    const end = at + m[0].length - (quoted ? 1 : 0);
    const setting = `${flag ? '--' : ''}${name.toLowerCase()}${assigned ? '=' : ''}`;
    const what = assigned ? `a credential given as "${setting}"` : `a credential given as the value of "${setting}"`;
    add(end - value.length, end, what, 'redis-password');
  }
  // rules whose match ends with the password (their last group that matched), quoted or not
  const passwordAtEnd: ReadonlyArray<[RegExp, string]> = [
    [REDIS_CLI_PASSWORD, 'a password given to redis-cli with "-a"'],
    [SENTINEL_AUTH_PASS, 'a credential given as "sentinel auth-pass"'],
    [REDIS_CLI_AUTH, "a password given to redis-cli's AUTH command"],
  ];
  for (const [rule, what] of passwordAtEnd) {
    for (const m of text.matchAll(rule)) {
      const [whole, first, second] = m;
      const raw = second ?? first;
      const quoted = raw[0] === '"' || raw[0] === "'";
      const value = quoted ? raw.slice(1, -1) : raw;
      if (!secretValue(value)) continue;
      const end = m.index! + whole.length - (quoted ? 1 : 0);
      add(end - value.length, end, what, 'redis-password');
    }
  }
  // a copy of the pattern per text: the loop moves its lastIndex
  const aclUser = new RegExp(REDIS_ACL_USER);
  for (let m; (m = aclUser.exec(text));) {
    const aclFileLine = m[1] !== undefined;
    if (!aclRuleAt(text, m.index, aclFileLine)) {
      // an ACL SETUSER may start within the match (`user ACL SETUSER ...`): look again from the next character
      aclUser.lastIndex = m.index + 1;
      continue;
    }
    const base = m.index + m[0].length;
    const lineEnd = text.indexOf('\n', base);
    const rules = text.slice(base, lineEnd < 0 ? text.length : lineEnd);
    // the rule takes the rest of the line
    aclUser.lastIndex = base + rules.length;
    if (aclFileLine && !ACL_RULES.test(rules)) continue;
    for (const item of rules.matchAll(/(?<=^|[ \t])[<>]([^\s"';&|]+)/g)) {
      const value = item[1];
      // a shell's redirection (`>/dev/null`, `>&2`, `>>acl.log`) is not a password
      if (/^[/&>]/.test(value) || !secretValue(value)) continue;
      const start = base + item.index! + 1;
      add(start, start + value.length, 'a password in a Redis ACL rule (">password")', 'redis-password');
    }
  }
  for (const m of text.matchAll(USER_OPTION)) {
    const [option, user, password] = m;
    const at = m.index!;
    // a flag of its own, not the end of a word (`foo-u`)
    if (at > 0 && !/[\s"'[(,]/.test(text[at - 1])) continue;
    const flag = option.startsWith('--proxy-user') ? '--proxy-user' : option.startsWith('--user') ? '--user' : '-u';
    if (!userPassword(flag, user, password, inCurlCommand(text, at))) continue;
    const end = at + option.length;
    add(end - password.length, end, `a password given with "${flag}" (user:password)`, 'user-password');
  }
  for (const m of text.matchAll(AUTHORIZATION_HEADER)) {
    const [header, scheme, value] = m;
    const at = m.index!;
    // the header's name, not the end of a longer word (`Proxy-Authorization` counts)
    if (at > 0 && /[A-Za-z0-9_]/.test(text[at - 1])) continue;
    if (!secretValue(value)) continue;
    // after a known scheme any credential of 8 characters or more; else only a token-like one (not "authorization: the gateway")
    if (!(scheme && AUTH_SCHEMES.test(scheme) ? value.length >= 8 : tokenLike(value))) continue;
    const end = at + header.length;
    add(end - value.length, end, 'a credential in an HTTP Authorization header', 'authorization-header');
  }
  for (const m of text.matchAll(AUTH_SCHEME_VALUE)) {
    const [whole, scheme, value] = m;
    const basic = /^basic$/i.test(scheme);
    if (basic ? !basicCredential(value) : !tokenLike(value)) continue;
    const end = m.index! + whole.length;
    add(
      end - value.length,
      end,
      basic ? 'a user and password in base64 ("Basic …")' : 'a bearer token ("Bearer …")',
      'authorization-header',
    );
  }
}

/**
 * The value of a credential flag given as the next item of the same array
 * (`args: ["--db-password", "hunter2"]`), which a scan of each string alone cannot pair. The
 * value is not a secret when it refers to a variable (`$(DB_PASSWORD)`), is a switch or a number
 * (`true`, `4096`), another flag (`-v`) or a file path (`/etc/tls/key.pem`); after a short word
 * (`--key`, `--sig`) only a token-like value counts, as for `key=`.
 */
function flagValue(flag: string, value: string): boolean {
  const m = CREDENTIAL_FLAG.exec(flag);
  if (!m || value === '') return false;
  if (!literalCredential(value) || VARIABLE_REFERENCE.test(value)) return false;
  if (/^-/.test(value) || /^(\/|\.{1,2}\/|~\/)/.test(value)) return false;
  const weak = m[2];
  if (weak && !/^(pwd|pass|auth)$/i.test(weak) && !tokenLike(value)) return false;
  return true;
}

/**
 * Values of credential flags given as the next item of an array (`["--db-password", "hunter2"]`),
 * in `value` (plain data). `index` counts strings in `stringsOf(value)` order, plus `offset`.
 * Only arrays under one of `arrayKeys` are looked at (`args`, `command` in a manifest), or every
 * array when it is not given (an environment file).
 */
export function flagValueFindings(value: unknown, arrayKeys?: readonly string[], offset = 0): StringFinding[] {
  const out: StringFinding[] = [];
  let count = offset;
  const walk = (v: unknown, key: string | undefined): void => {
    if (typeof v === 'string') {
      count++;
    } else if (Array.isArray(v)) {
      const pair = !arrayKeys || (key !== undefined && arrayKeys.includes(key));
      for (let i = 0; i < v.length; i++) {
        if (pair) pushFlagValue(v, i, count, out);
        walk(v[i], undefined);
      }
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        count++;
        walk((v as Record<string, unknown>)[k], k);
      }
    }
  };
  walk(value, undefined);
  return out;
}

/** Adds to `out` the finding of `flagValueFindings` at item `i` of `items`, if there is one; the item is the `index`th string. */
function pushFlagValue(items: readonly unknown[], i: number, index: number, out: StringFinding[]): void {
  const item = items[i];
  const prev = items[i - 1];
  if (i === 0 || typeof item !== 'string' || typeof prev !== 'string') return;
  if (flagValue(prev, item)) {
    out.push({
      start: 0,
      end: item.length,
      what: `a credential given as the value of "${prev}"`,
      rule: 'credential-flag',
      inUrl: false,
      password: true,
      index,
    });
  } else if (USER_FLAG.test(prev)) {
    // curl's `["-u", "admin:pw"]`: the password is what follows the first colon
    const colon = item.indexOf(':');
    const curl = items.slice(0, i - 1).some((x) => typeof x === 'string' && /(^|\/)curl$/.test(x));
    if (colon > 0 && userPassword(prev, item.slice(0, colon), item.slice(colon + 1), curl))
      out.push({
        start: colon + 1,
        end: item.length,
        what: `a password given as the value of "${prev}" (user:password)`,
        rule: 'user-password',
        inUrl: false,
        password: true,
        index,
      });
  }
}

// ---------------------------------------------------------------------------------------------
// scanning

/** Every secret in `text`, by position; overlapping findings are merged into the narrowest. */
export function findSecrets(text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  ownFindings(text, findings);
  const { rules, sink } = secretlintRules();
  const source: SecretlintSource = { filePath: 'dist.yaml', ext: '.yaml', content: text, contentType: 'text' };
  sink.found = [];
  for (const rule of rules) rule.file(source);
  for (const { rule, range } of sink.found) {
    const [start, end] = range;
    // our URL and parameter rules point at the password itself; a secretlint match around one adds nothing
    if (findings.some((f) => f.start >= start && f.end <= end)) continue;
    findings.push({ start, end, what: rule.what, rule: rule.id, inUrl: rule.inUrl, password: false });
  }
  sink.found = [];
  return findings.sort((a, b) => a.start - b.start || b.end - a.end);
}

/** Keeps entries apart in a batch: no rule matches across an empty line's worth of whitespace-free text. */
const SEPARATOR = '\n\n';

/** A finding in one of several scanned strings; offsets are relative to that string. */
export interface StringFinding extends SecretFinding {
  /** The index in the scanned list of the string's first occurrence. */
  readonly index: number;
}

/**
 * The distinct strings of a scan, each with the index of its first occurrence. Strings shorter
 * than any rule's smallest match (`pwd=x`) are left out.
 */
class DistinctStrings {
  private readonly seen = new Set<string>();
  readonly unique: string[] = [];
  readonly firstIndex: number[] = [];

  add(s: string, index: number): void {
    if (s.length < 5 || this.seen.has(s)) return;
    this.seen.add(s);
    this.unique.push(s);
    this.firstIndex.push(index);
  }
}

/**
 * The secrets in many strings, scanned as one text (each distinct string once). A finding is
 * reported at the first string that holds it.
 */
export function scanStrings(strings: readonly string[]): StringFinding[] {
  const distinct = new DistinctStrings();
  strings.forEach((s, i) => distinct.add(s, i));
  return findingsIn(distinct);
}

/**
 * `scanStrings` of the strings of several values (plain data) in `stringsOf` order, numbered
 * across them, and `flagValueFindings(values[i], arrayKeys, starts[i])` of each, in one walk and
 * without listing the strings: a target's manifests hold about a million strings, and few
 * distinct ones. `starts[i]` is the index of the first string of `values[i]`. The findings are in
 * the order of their strings.
 */
export function scanValues(
  values: readonly unknown[],
  arrayKeys: readonly string[],
): { findings: StringFinding[]; starts: number[] } {
  const distinct = new DistinctStrings();
  const flagged: StringFinding[] = [];
  let count = 0;
  const walk = (value: unknown, key: string | undefined): void => {
    if (typeof value === 'string') {
      distinct.add(value, count++);
    } else if (Array.isArray(value)) {
      const pair = key !== undefined && arrayKeys.includes(key);
      for (let i = 0; i < value.length; i++) {
        if (pair) pushFlagValue(value, i, count, flagged);
        walk(value[i], undefined);
      }
    } else if (value !== null && typeof value === 'object') {
      for (const k of Object.keys(value)) {
        distinct.add(k, count++);
        walk((value as Record<string, unknown>)[k], k);
      }
    }
  };
  const starts = values.map((value) => {
    const start = count;
    walk(value, undefined);
    return start;
  });
  const findings = [...findingsIn(distinct), ...flagged].sort((a, b) => a.index - b.index || a.start - b.start);
  return { findings, starts };
}

function findingsIn({ unique, firstIndex }: DistinctStrings): StringFinding[] {
  if (unique.length === 0) return [];
  const starts = new Array<number>(unique.length);
  let offset = 0;
  unique.forEach((s, i) => {
    starts[i] = offset;
    offset += s.length + SEPARATOR.length;
  });
  const out: StringFinding[] = [];
  for (const f of findSecrets(unique.join(SEPARATOR))) {
    // the entry the finding starts in: the last start at or before it
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= f.start) lo = mid;
      else hi = mid - 1;
    }
    const base = starts[lo];
    const length = unique[lo].length;
    if (f.start - base >= length) continue; // inside a separator
    out.push({ ...f, start: f.start - base, end: Math.min(f.end - base, length), index: firstIndex[lo] });
  }
  return out;
}

/** Every string of `value` (plain data) in a fixed order: each key, then its value; array items in order. */
export function stringsOf(value: unknown, out: string[]): string[] {
  if (typeof value === 'string') {
    out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) stringsOf(item, out);
  } else if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      out.push(key);
      stringsOf((value as Record<string, unknown>)[key], out);
    }
  }
  return out;
}

/** Where the `n`th string of `value` (in `stringsOf` order) is: its path, and whether it is a key. */
export function stringPath(value: unknown, n: number): { path: Array<string | number>; key: boolean } | undefined {
  let count = 0;
  const walk = (
    v: unknown,
    path: Array<string | number>,
  ): { path: Array<string | number>; key: boolean } | undefined => {
    if (typeof v === 'string') return count++ === n ? { path, key: false } : undefined;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = walk(v[i], [...path, i]);
        if (found) return found;
      }
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        if (count++ === n) return { path: [...path, k], key: true };
        const found = walk((v as Record<string, unknown>)[k], [...path, k]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(value, []);
}

// ---------------------------------------------------------------------------------------------
// redaction

/** What stands in a message for a secret: a password never shows; a token its first 4 characters (its kind: ghp_, AKIA, eyJh). */
function mask(secret: string, finding: Pick<SecretFinding, 'password'>): string {
  return finding.password || secret.length < 16 ? '****' : `${secret.slice(0, 4)}…`;
}

/** `text` with every secret replaced by its mask; for messages that may quote a value or a file. */
export function maskSecrets(text: string, findings: readonly SecretFinding[] = findSecrets(text)): string {
  if (findings.length === 0) return text;
  let out = '';
  let at = 0;
  for (const f of findings) {
    if (f.start < at) continue; // inside one already masked
    out += text.slice(at, f.start) + mask(text.slice(f.start, f.end), f);
    at = f.end;
  }
  return out + text.slice(at);
}

/** The longest excerpt `excerpt` returns by default, in characters. */
export const EXCERPT_LENGTH = 48;

/**
 * A short excerpt of `value` for a message, with every secret masked: around the first secret
 * when there is one (a little context before it, never the secret), else the beginning; `…`
 * marks what was left out.
 */
export function excerpt(
  value: string,
  findings: readonly SecretFinding[] = findSecrets(value),
  max = EXCERPT_LENGTH,
): string {
  const first = findings[0];
  const from = first ? Math.max(0, first.start - 16) : 0;
  let out = '';
  let at = from;
  for (const f of findings) {
    if (f.end <= at) continue;
    if (out.length + (f.start - at) >= max) break;
    out += value.slice(at, Math.max(at, f.start)) + mask(value.slice(f.start, f.end), f);
    at = f.end;
  }
  let cut: boolean;
  if (out.length < max && at < value.length) {
    const rest = value.slice(at, at + (max - out.length));
    // the rest holds no secret, but it may hold the start of one cut off: stop before any finding
    const next = findings.find((f) => f.start >= at);
    out += next ? rest.slice(0, Math.max(0, next.start - at)) : rest;
    cut = at + rest.length < value.length || next !== undefined;
  } else {
    cut = at < value.length;
  }
  if (out.length > max) {
    out = out.slice(0, max);
    cut = true;
  }
  return `${from > 0 ? '…' : ''}${out}${cut ? '…' : ''}`;
}
