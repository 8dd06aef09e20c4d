import { describe, expect, it } from 'vitest';
import { describeFindings, findSecrets, redactSecrets, type SecretFinding } from '../../src/core/handoff/secrets.js';

// Fixtures are assembled at run time so this file does not itself look like it leaks credentials.
const AWS_KEY_ID = 'AKIA' + 'Q3EGRJ7TV2NPLM5X';
const AWS_TEMP_KEY_ID = 'ASIA' + 'ZX4B6N8M2K4J6H8G';
const GITHUB_TOKEN = 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';
const GITHUB_PAT = 'github_pat_' + '11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789';
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9' + '.' + 'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkJhdG9uIn0' + '.' + 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const SLACK_TOKEN = 'xoxb-' + '123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
const PEM = '-----BEGIN RSA ' + 'PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----\n';
const DB_URL = 'postgres://baton:' + 'hunter2-Correct' + '@db.internal:5432/runs';
const PASSWORD = 'Tr0ub4dor&3-horse';

const GIT_SHA = '3f786850e387550fdab836ed7e6dc881de23001b';
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const UUID = '123e4567-e89b-12d3-a456-426614174000';

const paths = (findings: SecretFinding[]) => findings.map((f) => f.path);

describe('findSecrets: key names', () => {
  it.each([
    ['password'],
    ['db_password'],
    ['PGPASSWORD'],
    ['passwd'],
    ['pwd'],
    ['MYSQL_PWD'],
    ['secret'],
    ['client_secret'],
    ['clientSecret'],
    ['token'],
    ['GITHUB_TOKEN'],
    ['accessToken'],
    ['api_key'],
    ['apiKey'],
    ['apikey'],
    ['x-api-key'],
    ['access_key'],
    ['aws_secret_access_key'],
    ['private_key'],
    ['auth'],
    ['basic_auth'],
    ['Authorization'],
    ['credentials'],
    ['password2'],
  ])('flags a string under %j', (key) => {
    const findings = findSecrets({ [key]: PASSWORD });
    expect(findings).toHaveLength(1);
    expect(findings[0]!.reason).toBe(`key ${JSON.stringify(key)} holds what looks like a credential`);
  });

  it.each([
    ['max_tokens', 4096],
    ['max_tokens', '4096'],
    ['token_count', 12],
    ['token_count', '12'],
    ['tokens', 'many'],
    ['token_budget', '20000'],
    ['tokenizer', 'cl100k_base'],
    ['max_token', '4096'],
    ['page_token', 'CAESBggBEAEYAQ'],
    ['eos_token', '</s>'],
    ['pad_token', '<pad>'],
    ['secret_name', 'prod/db'],
    ['password_policy', 'strict'],
    ['author', 'Ada Lovelace'],
    ['auth_method', 'oauth'],
    ['auth', 'oauth2'],
    ['key', 'cache-v2'],
    ['sort_key', 'created_at'],
    ['password', 42],
    ['token', true],
    ['token', null],
  ])('does not flag %j: %j', (key, value) => {
    expect(findSecrets({ [key]: value })).toEqual([]);
  });

  it.each([
    [''],
    ['   '],
    ['***'],
    ['xxxxxxxx'],
    ['<redacted>'],
    ['<your token here>'],
    ['[REDACTED]'],
    ['redacted'],
    ['none'],
    ['${GITHUB_TOKEN}'],
    ['$GITHUB_TOKEN'],
    ['{{ secrets.GITHUB_TOKEN }}'],
    ['env:GITHUB_TOKEN'],
    ['Bearer ${API_TOKEN}'],
    ['/run/secrets/db_password'],
    ['~/.ssh/id_ed25519'],
    ['vault://kv/prod/db'],
  ])('does not flag the placeholder or reference %j', (value) => {
    expect(findSecrets({ token: value, password: value, private_key: value })).toEqual([]);
  });

  it('walks into objects under credential-looking keys rather than flagging them', () => {
    expect(paths(findSecrets({ secret: { name: 'db', password: PASSWORD } }))).toEqual(['secret.password']);
  });
});

describe('findSecrets: values anywhere', () => {
  it.each([
    ['an AWS access key id', AWS_KEY_ID, 'AKIA…'],
    ['an AWS access key id', AWS_TEMP_KEY_ID, 'ASIA…'],
    ['a PEM private key', PEM, '----…'],
    ['a GitHub token', GITHUB_TOKEN, 'ghp_…'],
    ['a GitHub token', GITHUB_PAT, 'gith…'],
    ['a JSON Web Token', JWT, 'eyJh…'],
    ['a Slack token', SLACK_TOKEN, 'xoxb…'],
    ['a URL with an embedded password', DB_URL, 'post…'],
  ])('finds %s under an innocent key, in an array and inside a longer string', (kind, secret, shown) => {
    const findings = findSecrets({ note: secret, list: ['fine', secret], cmd: `run --with ${secret} now` });
    expect(findings).toEqual([
      { path: 'note', reason: `${kind} (${shown})` },
      { path: 'list[1]', reason: `${kind} (${shown})` },
      { path: 'cmd', reason: `${kind} (${shown})` },
    ]);
  });

  it('names the kind, not the key, when a credential key holds a recognisable value', () => {
    expect(findSecrets({ api_key: AWS_KEY_ID })).toEqual([{ path: 'api_key', reason: 'an AWS access key id (AKIA…)' }]);
  });

  it.each([
    ['a git SHA', GIT_SHA],
    ['a sha256 hex string', SHA256],
    ['a sha256 digest reference', `sha256:${SHA256}`],
    ['a UUID', UUID],
    ['a URL without a password', 'https://baton@example.com/repo.git'],
    ['a URL with a port', 'https://example.com:8443/path?next=a@b'],
    ['a URL with a placeholder password', 'postgres://baton:${PGPASSWORD}@db.internal/runs'],
    ['an ssh remote', 'git@github.com:example/baton.git'],
    ['a lower-case AKIA lookalike', 'akiaq3egrj7tv2nplm5x'],
    ['an AKIA prefix inside a longer word', 'XAKIAQ3EGRJ7TV2NPLM5XY'],
    ['a short ghp_ string', 'ghp_short'],
    ['a public key', '-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----'],
    ['a base64 string starting eyJ without dots', 'eyJhbGciOiJIUzI1NiJ9'],
    ['a dotted version string', '1.2.3'],
    ['a slack-ish word', 'xoxo-gossip'],
    ['prose mentioning tokens', 'count the tokens, then store the password hash'],
  ])('does not flag %s', (_what, value) => {
    expect(findSecrets({ value, values: [value] })).toEqual([]);
  });

  it('scans a top-level string', () => {
    expect(findSecrets(GITHUB_TOKEN)).toEqual([{ path: '(top level)', reason: 'a GitHub token (ghp_…)' }]);
    expect(findSecrets(GITHUB_TOKEN, { root: 'phase_config' })).toEqual([{ path: 'phase_config', reason: 'a GitHub token (ghp_…)' }]);
  });

  it('ignores numbers, booleans and null', () => {
    expect(findSecrets([1, true, null, { a: 2 }])).toEqual([]);
  });
});

describe('findSecrets: paths', () => {
  it('formats nested objects, arrays and non-identifier keys like formatPath, bracket-quoting odd keys', () => {
    const pkg = {
      global_context: { aws: { key: AWS_KEY_ID } },
      phases: [{}, {}, { config: { token: PASSWORD } }],
      dependency_contexts: { '3': { context: { password: PASSWORD } } },
      odd: { 'with space': { 'a.b': [GITHUB_TOKEN] }, 'api-key': PASSWORD, 'quo"te': SLACK_TOKEN },
    };
    expect(paths(findSecrets(pkg))).toEqual([
      'global_context.aws.key',
      'phases[2].config.token',
      'dependency_contexts["3"].context.password',
      'odd["with space"]["a.b"][0]',
      'odd["api-key"]',
      'odd["quo\\"te"]',
    ]);
  });

  it('prefixes paths with root', () => {
    expect(paths(findSecrets({ aws: { key: AWS_KEY_ID }, '7': { token: PASSWORD }, list: [JWT] }, { root: 'global_context' }))).toEqual([
      'global_context["7"].token',
      'global_context.aws.key',
      'global_context.list[0]',
    ]);
  });

  it('reports findings in document order', () => {
    expect(paths(findSecrets({ b: { password: PASSWORD }, a: [SLACK_TOKEN, { token: PASSWORD }], c: JWT }))).toEqual([
      'b.password',
      'a[0]',
      'a[1].token',
      'c',
    ]);
  });

  it('reports each kind once per location', () => {
    const findings = findSecrets({ note: `${AWS_KEY_ID} ${AWS_KEY_ID} ${JWT}` });
    expect(findings.map((f) => f.reason)).toEqual(['an AWS access key id (AKIA…)', 'a JSON Web Token (eyJh…)']);
  });
});

describe('findSecrets: safeKeys', () => {
  const value = {
    token_budget: 'ignored by name rules anyway',
    session_token: PASSWORD,
    aws: { key: AWS_KEY_ID, other: { password: PASSWORD } },
    phases: [{ config: { token: PASSWORD } }, { config: { token: PASSWORD } }],
  };

  it('reports everything without safeKeys', () => {
    expect(paths(findSecrets(value))).toEqual(['session_token', 'aws.key', 'aws.other.password', 'phases[0].config.token', 'phases[1].config.token']);
  });

  it('suppresses by key name, case-insensitively and anywhere, including everything under the key', () => {
    expect(paths(findSecrets(value, { safeKeys: ['SESSION_TOKEN', 'AWS'] }))).toEqual(['phases[0].config.token', 'phases[1].config.token']);
    expect(paths(findSecrets(value, { safeKeys: ['token'] }))).toEqual(['session_token', 'aws.key', 'aws.other.password']);
  });

  it('does not treat a name as a prefix of other names', () => {
    expect(paths(findSecrets(value, { safeKeys: ['session', 'aw'] }))).toHaveLength(5);
  });

  it('suppresses by path, on segment boundaries', () => {
    expect(paths(findSecrets(value, { safeKeys: ['aws.key'] }))).toEqual([
      'session_token',
      'aws.other.password',
      'phases[0].config.token',
      'phases[1].config.token',
    ]);
    expect(paths(findSecrets(value, { safeKeys: ['phases[1]'] }))).toEqual(['session_token', 'aws.key', 'aws.other.password', 'phases[0].config.token']);
    expect(paths(findSecrets(value, { safeKeys: ['aws.oth', 'phases[0].con'] }))).toHaveLength(5);
  });

  it('matches full paths including root, or paths relative to root', () => {
    const opts = (safeKeys: string[]) => ({ root: 'global_context', safeKeys });
    expect(paths(findSecrets(value, opts(['global_context.aws'])))).toEqual(['global_context.session_token', 'global_context.phases[0].config.token', 'global_context.phases[1].config.token']);
    expect(paths(findSecrets(value, opts(['aws'])))).toHaveLength(3);
    expect(paths(findSecrets(value, opts(['global_context.phases[0].config.token', 'aws.other'])))).toEqual([
      'global_context.session_token',
      'global_context.aws.key',
      'global_context.phases[1].config.token',
    ]);
    expect(findSecrets(value, opts(['global_context']))).toEqual([]);
    expect(findSecrets({ token: PASSWORD }, { root: 'phases[2].config', safeKeys: ['phases[2]'] })).toEqual([]);
    expect(paths(findSecrets({ token: PASSWORD }, { root: 'phases[2].config', safeKeys: ['phases[1]'] }))).toEqual(['phases[2].config.token']);
  });

  it('matches bracket-quoted paths', () => {
    const pkg = { dependency_contexts: { '3': { context: { password: PASSWORD } }, '4': { context: { password: PASSWORD } } } };
    expect(paths(findSecrets(pkg, { safeKeys: ['dependency_contexts["3"].context'] }))).toEqual(['dependency_contexts["4"].context.password']);
  });
});

describe('findSecrets: never echoes a secret', () => {
  it('shows at most four characters of a value match and none of a key-name match', () => {
    const secrets = [AWS_KEY_ID, PEM, GITHUB_TOKEN, GITHUB_PAT, JWT, SLACK_TOKEN, DB_URL, PASSWORD];
    const findings = findSecrets({ list: secrets, password: PASSWORD, short: { token: 'abcd' } });
    // PASSWORD in the list sits under an innocent key and matches no value pattern.
    expect(findings).toHaveLength(secrets.length - 1 + 2);
    const text = [...describeFindings(findings), ...findings.map((f) => f.reason)].join('\n');
    for (const secret of [...secrets, 'hunter2', 'abcd']) {
      expect(text).not.toContain(secret.slice(0, 5));
    }
    for (const f of findings) {
      const shown = /\((.*)…\)$/.exec(f.reason)?.[1];
      if (shown !== undefined) expect(shown.length).toBeLessThanOrEqual(4);
    }
  });
});

describe('findSecrets: robustness', () => {
  it('handles 10,000 levels of nested objects and arrays without throwing', () => {
    let deep: unknown = { token: PASSWORD };
    for (let i = 0; i < 10_000; i++) deep = i % 2 === 0 ? { a: deep } : [deep];
    const findings = findSecrets(deep);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.path.endsWith('.a.token')).toBe(true);
    expect(findings[0]!.path.startsWith('[0].a[0].a')).toBe(true);
  });

  it('handles 100,000 levels without throwing', () => {
    let deep: unknown = 'nothing here';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findSecrets(deep)).toEqual([]);
  });

  it('does not loop on cyclic input, and still walks shared (non-cyclic) objects at each place', () => {
    const shared = { token: PASSWORD };
    const cyclic: Record<string, unknown> = { a: shared, b: shared };
    cyclic.self = cyclic;
    expect(paths(findSecrets(cyclic))).toEqual(['a.token', 'b.token']);
  });

  it('scans long strings quickly', () => {
    const long = 'a'.repeat(200_000) + '://' + 'eyJ'.repeat(50_000) + 'gh' + 'p_'.repeat(10_000);
    const started = Date.now();
    expect(findSecrets({ long })).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('describeFindings', () => {
  it('gives one actionable line per finding', () => {
    const lines = describeFindings(findSecrets({ aws: { key: AWS_KEY_ID }, api_key: PASSWORD }, { root: 'global_context' }));
    expect(lines).toEqual([
      `global_context.aws.key: an AWS access key id (AKIA…); remove it from the package (pass credentials to the phase through the worker's environment instead), or list the key in the plan's "safe_keys" if it is not a secret`,
      `global_context.api_key: key "api_key" holds what looks like a credential; remove it from the package (pass credentials to the phase through the worker's environment instead), or list the key in the plan's "safe_keys" if it is not a secret`,
    ]);
  });

  it('gives no lines for no findings', () => {
    expect(describeFindings([])).toEqual([]);
  });
});

describe('the cost of a scan: it runs on every output, package and failure', () => {
  const timed = <T>(work: () => T): [T, number] => {
    const started = performance.now();
    const result = work();
    return [result, performance.now() - started];
  };

  it('scans a 20 MB value, and a context of 100,000 keys, in well under a second each', () => {
    const [none, big] = timed(() => findSecrets({ blob: 'x'.repeat(20_000_000) }));
    expect(none).toEqual([]);
    expect(big).toBeLessThan(2_000); // ~70 ms on the benchmark machine
    const keys = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, `value ${i}`]));
    const [clean, wide] = timed(() => findSecrets(keys));
    expect(clean).toEqual([]);
    expect(wide).toBeLessThan(2_000); // ~100 ms
  });

  it('redacts text made to be slow (nested assignments, unclosed quotes, PEM lines) in linear time', () => {
    for (const unit of ['a:', 'a=a:', 'password:"', 'x://a:', '-----END RSA PRIVATE KEY-----AAAA', 'eyJaaaaa.', ' AKIA']) {
      const text = unit.repeat(Math.ceil(1_000_000 / unit.length));
      const [, ms] = timed(() => redactSecrets(text));
      expect(ms, unit).toBeLessThan(3_000); // 1 MB: 10–200 ms each on the benchmark machine
    }
  });
});
