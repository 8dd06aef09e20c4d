/**
 * Spotting credentials before they are written into a handoff package.
 *
 * A package lands in Temporal history and, with `save_handoff`, on disk next to the
 * phase's files, so a token pasted into `global_context` or a phase's config would
 * outlive the run. This scan finds the likely ones and says where they are.
 *
 * Pure module (no Node builtins; it imports only the path formatter): the workflow runs it,
 * so it must be deterministic. It walks with an explicit stack, so arbitrarily deep input cannot
 * overflow the call stack.
 *
 * What counts as a credential:
 *
 * 1. By key name. A string value is suspect when the key's last word (keys are split on
 *    `_`, `-`, `.`, spaces and camelCase; trailing digits are ignored) ends with
 *    `password`, `passwd`, `passphrase`, `pwd`, `secret`, `token`, `apikey`,
 *    `accesskey`, `privatekey`, `secretkey`, `credential(s)` or `authorization`,
 *    or is `auth`, or is `key` preceded by `api`, `access`, `private`, `secret`,
 *    `signing`, `encryption`, `master`, `client` or `auth` (`api_key`, `x-api-key`,
 *    `apiKey`, `aws_secret_access_key`, `GITHUB_TOKEN`, `client_secret`, `PGPASSWORD`).
 *    Not suspect:
 *    - names where the credential word is not last (`token_count`, `secret_name`,
 *      `password_policy`) or is plural (`max_tokens`, `tokens`);
 *    - `token` after a word naming a counter, cursor or model vocabulary entry
 *      (`max_token`, `page_token`, `next_token`, `eos_token`, `pad_token`, ...);
 *    - non-string values (numbers, booleans, objects: objects are walked instead);
 *    - placeholders and references: empty or blank, mask characters only (`***`,
 *      `xxxx`), `<...>`, `[...]`, `{{ ... }}`, `${NAME}`, `$NAME`, `%NAME%`,
 *      `env:NAME`, `file:...`, `vault:...`, the words none/null/nil/undefined/n/a/
 *      redacted/masked/hidden/omitted/removed and boolean-like words (true/false/yes/
 *      no/on/off/enabled/disabled), each also after a `Bearer `/`Basic `/`Token ` prefix;
 *    - file paths (`/…`, `~/…`, `../../handoff/…`, `../../…`, `C:\…`) and URLs without an embedded
 *      password (`vault://kv/db`): they say where a secret is, not what it is;
 *    - for `auth`/`authorization`, a word naming a scheme (`basic`, `oauth2`, `none`, ...).
 * 2. By value, in any string anywhere (array items and innocent keys included): AWS
 *    access key ids, PEM private key blocks, GitHub tokens, JSON Web Tokens, Slack
 *    tokens, and URLs with an embedded password (`scheme://user:pass@host`, unless the
 *    password is a placeholder as above). When a value matches, the key-name rule is
 *    not reported separately for it.
 *
 * Findings never contain the secret: a value match shows its first 4 characters
 * (which for these kinds are a fixed prefix like `AKIA` or `ghp_`), a key-name match
 * shows nothing of the value.
 */

import { formatPath } from '../plan/problems.js';

export interface SecretFinding {
  path: string;
  reason: string;
}

export interface SecretScanOptions {
  /** Key names (case-insensitive, exact) or full paths (e.g. "global_context.token_budget") known to be safe. */
  safeKeys?: readonly string[];
  /** Prefix for reported paths, e.g. "global_context". */
  root?: string;
}

type Segment = string | number;

/** The path to a node, as a chain to its parent, so deep input costs no more than its size. */
interface PathNode {
  readonly seg: Segment;
  readonly parent: PathNode | null;
}

/** A safe path whose first `next` segments match the path walked so far. */
interface SafeCandidate {
  readonly segs: readonly string[];
  readonly next: number;
}

type Frame =
  | { readonly kind: 'visit'; readonly value: unknown; readonly at: PathNode | null; readonly candidates: readonly SafeCandidate[] }
  | { readonly kind: 'leave'; readonly object: object };

// ---------------------------------------------------------------------------
// Paths

/** The path to `at`, after `root`, in the one format every problem uses: `a["3"].b[0]`. */
function formatAt(root: string, at: PathNode | null): string {
  const segs: Segment[] = [];
  for (let n = at; n; n = n.parent) segs.push(n.seg);
  segs.reverse();
  return formatPath(segs, root);
}

/** Parses `a.b[2]["c d"]['e']` into segments (indices as strings); null if it is not a path. */
function parsePath(text: string): string[] | null {
  const segs: string[] = [];
  let rest = text;
  while (rest) {
    let m: RegExpExecArray | null;
    if ((m = /^\[(\d+)\]/.exec(rest))) segs.push(m[1] ?? '');
    else if ((m = /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest))) {
      try {
        segs.push(String(JSON.parse(m[1] ?? '""')));
      } catch {
        return null;
      }
    } else if ((m = /^\['([^']*)'\]/.exec(rest))) segs.push(m[1] ?? '');
    else if ((m = (segs.length === 0 ? /^([^.[\]]+)/ : /^\.([^.[\]]+)/).exec(rest))) segs.push(m[1] ?? '');
    else return null;
    rest = rest.slice(m[0].length);
  }
  return segs.length > 0 ? segs : null;
}

function startsWith(whole: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= whole.length && prefix.every((s, i) => whole[i] === s);
}

// ---------------------------------------------------------------------------
// Rule 1: key names

/** Last-word endings that name a credential. */
const CREDENTIAL_ENDINGS = [
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'token',
  'apikey',
  'accesskey',
  'privatekey',
  'secretkey',
  'credential',
  'credentials',
  'authorization',
];
/** `<word>_key` is a credential for these words. */
const KEY_QUALIFIERS = new Set(['api', 'access', 'private', 'secret', 'signing', 'encryption', 'master', 'client', 'auth']);
/** `<word>_token` is a counter, a cursor or a model's vocabulary entry, not a credential. */
const NOT_CREDENTIAL_TOKENS = new Set([
  'max', 'min', 'num', 'total', 'count',
  'page', 'next', 'continuation', 'pagination', 'resume', 'sync', 'cancellation',
  'eos', 'bos', 'sos', 'pad', 'unk', 'sep', 'cls', 'mask', 'stop', 'start', 'end', 'special',
]);
/** What an `auth` setting names when it is a choice of scheme rather than a credential. */
const AUTH_SCHEMES = new Set([
  'none', 'basic', 'bearer', 'token', 'digest', 'oauth', 'oauth2', 'oidc', 'jwt', 'saml', 'ldap', 'kerberos',
  'ntlm', 'iam', 'sigv4', 'mtls', 'tls', 'apikey', 'api_key', 'api-key', 'password', 'anonymous', 'default',
  'required', 'optional', 'aws', 'gcp', 'azure',
]);

function keyWords(key: string): string[] {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
  while (words.length > 0 && /^\d+$/.test(words[words.length - 1] ?? '')) words.pop();
  const last = words.pop();
  if (last !== undefined) words.push(last.replace(/\d+$/, ''));
  return words;
}

/** Keys repeat (in a wide context, in a log): their verdicts are kept, a bounded number of them. */
const credentialKeyCache = new Map<string, boolean>();

function isCredentialKey(key: string): boolean {
  const known = credentialKeyCache.get(key);
  if (known !== undefined) return known;
  const verdict = credentialKeyVerdict(key);
  if (credentialKeyCache.size >= 10_000) credentialKeyCache.clear();
  credentialKeyCache.set(key, verdict);
  return verdict;
}

function credentialKeyVerdict(key: string): boolean {
  const words = keyWords(key);
  const last = words[words.length - 1] ?? '';
  const before = words[words.length - 2] ?? '';
  if (last === 'auth') return true;
  if (last === 'key') return KEY_QUALIFIERS.has(before);
  if (last === 'token' && NOT_CREDENTIAL_TOKENS.has(before)) return false;
  return CREDENTIAL_ENDINGS.some((ending) => last.endsWith(ending));
}

const PLACEHOLDER_WORDS = new Set([
  'none', 'null', 'nil', 'undefined', 'n/a', 'redacted', 'masked', 'hidden', 'omitted', 'removed',
  'true', 'false', 'yes', 'no', 'on', 'off', 'enabled', 'disabled',
]);
const PLACEHOLDER_PATTERNS = [
  /^[*xX•.#?_-]+$/, // mask characters only: ***, xxxx
  /^<[^<>]*>$/, // <redacted>, <your token>
  /^\[[^[\]]*\]$/, // [REDACTED]
  /^\{\{[\s\S]*\}\}$/, // {{ secrets.TOKEN }}
  /^\$\{[^{}]+\}$/, // ${API_TOKEN}
  /^\$[A-Za-z_][A-Za-z0-9_]*$/, // $API_TOKEN
  /^%[A-Za-z_][A-Za-z0-9_]*%$/, // %API_TOKEN%
  /^(?:env|file|vault):\S+$/i, // env:API_TOKEN
];

/** True for values that stand in for a secret instead of being one. */
function isPlaceholder(value: string): boolean {
  const text = value.trim().replace(/^(?:bearer|basic|token)\s+/i, '');
  if (text === '') return true;
  if (PLACEHOLDER_WORDS.has(text.toLowerCase())) return true;
  return PLACEHOLDER_PATTERNS.some((p) => p.test(text));
}

/** A file path or a URL without a password says where a secret is, not what it is. */
function isReference(value: string): boolean {
  const text = value.trim();
  // A URL that does carry a password is reported by the value rule instead.
  return /^(?:~|\.{1,2})?\/\S*$/.test(text) || /^[A-Za-z]:[\\/]\S*$/.test(text) || /^[A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/\S+$/.test(text);
}

function keyLooksLikeCredential(key: string, value: string): boolean {
  if (!isCredentialKey(key) || isPlaceholder(value) || isReference(value)) return false;
  const last = keyWords(key).pop() ?? '';
  if ((last === 'auth' || last === 'authorization') && AUTH_SCHEMES.has(value.trim().toLowerCase())) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Rule 2: values

interface ValueKind {
  readonly name: string;
  /** Returns the matched credential, or null. */
  readonly find: (text: string) => string | null;
}

function firstMatch(pattern: RegExp): (text: string) => string | null {
  return (text) => pattern.exec(text)?.[0] ?? null;
}

// Every pattern starts at a boundary (a lookbehind), so a scan is linear in the string's length.
const AWS_KEY_ID = /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/;
const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;
const GITHUB_TOKEN = /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/;
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/;
const SLACK_TOKEN = /(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{10,}/;
/** `scheme://user:password@host`; group 1 is the password. */
const URL_WITH_PASSWORD = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/[^\s/?#@:]*:([^\s/?#@]+)@[^\s/?#@]+/g;

const VALUE_KINDS: readonly ValueKind[] = [
  { name: 'an AWS access key id', find: firstMatch(AWS_KEY_ID) },
  { name: 'a PEM private key', find: firstMatch(PEM_BEGIN) },
  { name: 'a GitHub token', find: firstMatch(GITHUB_TOKEN) },
  { name: 'a JSON Web Token', find: firstMatch(JWT) },
  { name: 'a Slack token', find: firstMatch(SLACK_TOKEN) },
  {
    name: 'a URL with an embedded password',
    find: (text) => {
      if (!text.includes('://')) return null;
      for (const m of text.matchAll(URL_WITH_PASSWORD)) {
        if (!isPlaceholder(m[1] ?? '')) return m[0];
      }
      return null;
    },
  },
];

function preview(secret: string): string {
  return `${secret.slice(0, 4)}…`;
}

// ---------------------------------------------------------------------------
// The walk

/**
 * Every credential-looking thing in `value`, in document order, one finding per
 * location and kind. See the module comment for the rules.
 */
export function findSecrets(value: unknown, opts: SecretScanOptions = {}): SecretFinding[] {
  const root = opts.root ?? '';
  const safeNames = new Set<string>();
  const initial: SafeCandidate[] = [];
  const rootSegs = root ? parsePath(root) : [];
  for (const entry of opts.safeKeys ?? []) {
    if (entry === '') continue;
    safeNames.add(entry.toLowerCase());
    const segs = parsePath(entry);
    if (!segs) continue;
    // A full path: everything under it is safe; relative to `root` it narrows the scan.
    if (rootSegs) {
      if (startsWith(rootSegs, segs)) return [];
      if (startsWith(segs, rootSegs)) initial.push({ segs: segs.slice(rootSegs.length), next: 0 });
    }
    // Also accepted relative to `root`, the way a plan's author sees the value.
    if (root) initial.push({ segs, next: 0 });
  }
  // `root` names where the value sits, so a safe name along it covers everything.
  if (root && (rootSegs ?? [root]).some((seg) => safeNames.has(seg.toLowerCase()))) return [];

  const findings: SecretFinding[] = [];
  const open = new Set<object>(); // objects on the current path, so a cycle is walked once
  const stack: Frame[] = [{ kind: 'visit', value, at: null, candidates: initial }];

  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.kind === 'leave') {
      open.delete(frame.object);
      continue;
    }
    const { value: node, at, candidates } = frame;

    if (typeof node === 'string') {
      scanString(node, at, root, findings);
      continue;
    }
    if (typeof node !== 'object' || node === null || open.has(node)) continue;

    const entries: Array<[Segment, unknown]> = Array.isArray(node)
      ? node.map((item, i): [Segment, unknown] => [i, item])
      : Object.entries(node);
    open.add(node);
    stack.push({ kind: 'leave', object: node });
    // Pushed last-first so they are visited, and reported, in document order.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [seg, child] = entries[i]!;
      if (typeof seg === 'string' && safeNames.has(seg.toLowerCase())) continue;
      const next: SafeCandidate[] = [];
      let safe = false;
      for (const c of candidates) {
        if (c.segs[c.next] !== String(seg)) continue;
        if (c.next + 1 === c.segs.length) safe = true;
        else next.push({ segs: c.segs, next: c.next + 1 });
      }
      if (!safe) stack.push({ kind: 'visit', value: child, at: { seg, parent: at }, candidates: next });
    }
  }
  return findings;
}

function scanString(text: string, at: PathNode | null, root: string, findings: SecretFinding[]): void {
  let found = false;
  for (const kind of VALUE_KINDS) {
    const secret = kind.find(text);
    if (secret === null) continue;
    findings.push({ path: formatAt(root, at), reason: `${kind.name} (${preview(secret)})` });
    found = true;
  }
  if (found || !at || typeof at.seg !== 'string') return;
  if (keyLooksLikeCredential(at.seg, text)) {
    findings.push({ path: formatAt(root, at), reason: `key ${JSON.stringify(at.seg)} holds what looks like a credential` });
  }
}

const PACKAGE_ADVICE =
  `remove it from the package (pass credentials to the phase through the worker's environment instead), ` +
  `or list the key in the plan's "safe_keys" if it is not a secret`;

/** One line per finding, saying where it is, what it looks like and what to do (`advice`: by default, about packages). */
export function describeFindings(findings: SecretFinding[], advice: string = PACKAGE_ADVICE): string[] {
  return findings.map((f) => `${f.path}: ${f.reason}; ${advice}`);
}

// ---------------------------------------------------------------------------
// Free-form text: redacted, not refused

/** What stands where a credential was in redacted text. Itself a placeholder, so redacting twice changes nothing. */
export const REDACTED = '[redacted]';

const global = (pattern: RegExp): RegExp => new RegExp(pattern.source, 'g');

/** Value kinds in free text, each replaced by its first four characters (a fixed prefix such as `AKIA`) and REDACTED. */
const REDACTED_KINDS: readonly RegExp[] = [AWS_KEY_ID, GITHUB_TOKEN, JWT, SLACK_TOKEN].map(global);
/** A PEM private key block, to its END line or the end of the text. */
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]{0,40})PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g;
/** The end of a PEM private key whose start was cut off (a log's tail begins mid-key). */
const PEM_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
/**
 * `key=value`, `key: value`, `"key": "value"`, `--key=value`, `Authorization: Bearer value`: the
 * value is redacted when the key names a credential (rule 1). KEY_SEP finds a key, its separator
 * and any scheme word (groups: the quote around the key, the key, the separator, the scheme);
 * VALUE, matched from there only for a credential's key, the value, so each character is looked
 * at a bounded number of times however the text is made.
 */
const KEY_SEP = /(?<![A-Za-z0-9_.])(["']?)([A-Za-z_][A-Za-z0-9_.-]{0,100})\1([ \t]*[:=][ \t]*)((?:bearer|basic|token)[ \t]+)?/gi;
const VALUE = /"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|<[^<>\n]*>|\[[^[\]\n]*\]|\$\{[^{}\n]*\}|\{\{[^\n]*?\}\}|[^\s"',;&)}\]]+/y;
/**
 * How this module's own findings read after their path (`config.db_password: key "db_password" holds …`):
 * text that describes a credential without containing one, left as it is.
 */
const FINDING_WORDING = [...VALUE_KINDS.map((k) => `${k.name} (`), 'a PEM private key', 'key "', 'a value that looks like a credential'];
/** A finding's path and wording (`credentials: context.token: a GitHub token (…`): the path is not a value either. */
const FINDING_AHEAD = new RegExp(`\\S{0,300}?: (?:${FINDING_WORDING.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'y');

function redactPem(text: string): string {
  if (!text.includes('PRIVATE KEY')) return text;
  const begun = text.replace(PEM_BLOCK, (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY…${REDACTED}`);
  // An END line left over had its BEGIN cut off: the base64 lines before it are the key.
  let out = '';
  let from = 0;
  for (const m of begun.matchAll(PEM_END)) {
    let start = m.index;
    while (start > from && /[A-Za-z0-9+/=\s]/.test(begun[start - 1]!)) start--;
    out += `${begun.slice(from, start)}${REDACTED} (the end of a PEM private key)`;
    from = m.index + m[0].length;
  }
  return out + begun.slice(from);
}

/**
 * Free-form text (a command's stderr tail, the start of an output that is not JSON, an agent's
 * error, a notice quoting a message) with every credential the scan would find replaced: values
 * of the kinds above by their first four characters and `…[redacted]` (`AKIA…[redacted]`), URL
 * passwords by `[redacted]` (`postgres://app:[redacted]@db`), credential assignments' values by
 * `[redacted]` (`password=[redacted]`), private key blocks whole. The value itself is never kept.
 * Linear in the text's length; idempotent.
 */
export function redactSecrets(text: string): string {
  let out = redactPem(text);
  for (const pattern of REDACTED_KINDS) out = out.replace(pattern, (m) => `${m.slice(0, 4)}…${REDACTED}`);
  if (out.includes('://')) {
    out = out.replace(URL_WITH_PASSWORD, (m, password: string) => {
      if (isPlaceholder(password)) return m;
      const at = m.indexOf(`:${password}@`, m.indexOf('://') + 3);
      return `${m.slice(0, at + 1)}${REDACTED}${m.slice(at + 1 + password.length)}`;
    });
  }
  return redactAssignments(out);
}

/** Whether the text at `at` is this module's own wording for a finding, or a finding's path and wording. */
function describesFinding(text: string, at: number): boolean {
  if (FINDING_WORDING.some((w) => text.startsWith(w, at))) return true;
  const ahead = new RegExp(FINDING_AHEAD.source, FINDING_AHEAD.flags);
  ahead.lastIndex = at;
  return ahead.test(text);
}

/** Credential assignments' values (see KEY_SEP). */
function redactAssignments(text: string): string {
  const keys = new RegExp(KEY_SEP.source, KEY_SEP.flags);
  const values = new RegExp(VALUE.source, VALUE.flags);
  let out = '';
  let copied = 0;
  for (let m = keys.exec(text); m; m = keys.exec(text)) {
    const [whole, , key = '', , scheme = ''] = m;
    const valueAt = m.index + whole.length;
    if (!isCredentialKey(key) || text.startsWith(REDACTED, valueAt) || describesFinding(text, valueAt)) {
      // Look again from the value on: it may hold an assignment of its own (`note: password=x`).
      keys.lastIndex = valueAt > m.index ? valueAt : m.index + 1;
      continue;
    }
    values.lastIndex = valueAt;
    const value = values.exec(text)?.[0];
    if (value === undefined) continue;
    const quoted = /^["']/.test(value) && value.length > 1;
    const bare = quoted ? value.slice(1, -1) : value;
    // A bare value ending in ":" is a label (`credentials: context.token: …`), not a value.
    if ((!quoted && value.endsWith(':')) || bare.includes(REDACTED) || !keyLooksLikeCredential(key, `${scheme}${bare}`)) {
      keys.lastIndex = valueAt;
      continue;
    }
    const q = quoted ? value[0]! : '';
    out += `${text.slice(copied, valueAt)}${q}${REDACTED}${q}`;
    copied = valueAt + value.length;
    keys.lastIndex = copied;
  }
  return out + text.slice(copied);
}

/** Whether free-form text carries something redactSecrets would take out. */
export function carriesSecrets(text: string): boolean {
  return redactSecrets(text) !== text;
}
