import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/handoff/canonical.js';
import { HandoffPackageSchema, type HandoffPackage } from '../../src/core/handoff/schema.js';
import {
  generateHmacSecret,
  hmacKeyId,
  packageContentHash,
  sealPackage,
  signingKeyFromEnv,
  verifyKeysFromEnv,
  verifyPackage,
  type SigningKey,
  type VerifyKey,
} from '../../src/runner/signing.js';

const SECRET = 'a-test-secret-of-plenty-bytes-0123456789';
const OTHER_SECRET = 'another-secret-entirely-9876543210';

function basePackage(): HandoffPackage {
  const pkg = {
    schema_version: 1,
    execution_id: 'run-1',
    plan_name: 'diamond',
    from_phase: 1,
    to_phase: 3,
    phase_name: 'Three',
    previous_phase_context: { context: { n: 1 }, artifacts: {} },
    dependency_contexts: {
      '1': { context: { n: 1 }, artifacts: { report: { path: 'out/report.txt', sha256: 'a'.repeat(64), size: 12 } } },
      '2': { context: { n: 2 }, artifacts: {} },
    },
    shared_artifacts: { inventory: 'data/inventory.csv' },
    global_context: { repo: '.', nested: { list: [1, 'two', null, true], label: 'héllo ✓' } },
    state_summary: { '3': { name: 'Three', state: 'ready', attempts: 0 } },
    run_summary: { phases: 2, by_state: { completed: 1, running: 1 } },
    execution_instructions: {
      mode: 'separate_agent',
      workdir: 'wd',
      base_dir: null,
      command: ['run', '--fast'],
      handler: null,
      task_queue: 'baton',
      save_handoff: true,
      on_handoff_failure: 'fail',
      timeout_s: 60,
      retries: 2,
      env: { MODE: 'x' },
      report: 'write output.json',
    },
    phase_config: { depth: 3, flags: ['a', 'b'] },
    safe_keys: [],
    generation: 1,
    attempt: 1,
    depends_on: [1, 2],
    created_at: '2026-01-01T00:00:00.000Z',
    content_hash: null,
    signature: null,
  };
  // Fails loudly if the schema moves on and this fixture no longer describes a real package.
  return HandoffPackageSchema.parse(pkg);
}

const hmacKey = (secret = SECRET): SigningKey & VerifyKey => {
  const buf = Buffer.from(secret, 'utf8');
  return { alg: 'hmac-sha256', keyId: hmacKeyId(buf), secret: buf };
};

/** Reverses the key order of every object, deeply, to prove order does not matter. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
  }
  return value;
}

function expectProblem(outcome: ReturnType<typeof verifyPackage>): string {
  expect(outcome.ok).toBe(false);
  return outcome.ok ? '' : outcome.problem;
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'baton-signing-'));
  tempDirs.push(d);
  return d;
}

describe('canonicalJson', () => {
  it('sorts keys at every level, keeps arrays in order, and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, 2], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,1,2]},"b":1}');
    expect(canonicalJson([{ z: 1, y: 2 }, 'q'])).toBe('[{"y":2,"z":1},"q"]');
  });

  it('orders keys by UTF-16 code units, not by locale or by integer-likeness', () => {
    // 'Z' (0x5a) < 'a' (0x61) < 'é' (0xe9) < '\u{1F600}' (0xd83d…) < '\uFF5E' (0xff5e)
    const value = { '\uFF5E': 1, '\u{1F600}': 2, é: 3, a: 4, Z: 5, '10': 6, '9': 7 };
    expect(canonicalJson(value)).toBe('{"10":6,"9":7,"Z":5,"a":4,"é":3,"\u{1F600}":2,"\uFF5E":1}');
  });

  it('is stable under key reordering and matches JSON.stringify for a plain value', () => {
    const pkg = basePackage();
    const text = canonicalJson(pkg);
    expect(canonicalJson(reversed(pkg))).toBe(text);
    expect(JSON.parse(text)).toEqual(pkg);
    expect(canonicalJson(JSON.parse(JSON.stringify(pkg)))).toBe(text);
  });

  it('omits undefined members, writes undefined array slots as null, and honours toJSON', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, 1] })).toBe('{"b":[null,1]}');
    expect(canonicalJson({ when: new Date('2026-01-01T00:00:00Z') })).toBe('{"when":"2026-01-01T00:00:00.000Z"}');
    expect(canonicalJson({ s: 'line\n"quoted"', n: -0, e: 1e21 })).toBe(JSON.stringify({ e: 1e21, n: -0, s: 'line\n"quoted"' }));
  });

  it('refuses what JSON cannot hold, saying where', () => {
    expect(() => canonicalJson({ a: { b: [1, Number.NaN] } })).toThrow(/non-finite number NaN at \$\.a\.b\[1\]/);
    expect(() => canonicalJson({ x: Infinity })).toThrow(/non-finite/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function at \$\.f/);
    expect(() => canonicalJson([Symbol('s')])).toThrow(/symbol at \$\[0\]/);
    expect(() => canonicalJson({ big: 10n })).toThrow(/bigint/);
    expect(() => canonicalJson(undefined)).toThrow(/undefined/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(() => canonicalJson(cyclic)).toThrow(/circular reference at \$\.self\.back/);
  });

  it('accepts a shared (non-cyclic) reference and very deep nesting', () => {
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(canonicalJson(deep)).toHaveLength(200_001);
  });

  it('handles a 20 MB string value quickly', () => {
    const big = 'x'.repeat(20 * 1024 * 1024);
    const started = Date.now();
    const text = canonicalJson({ global_context: { big }, z: 1 });
    expect(text.length).toBe(big.length + '{"global_context":{"big":""},"z":1}'.length);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('packageContentHash', () => {
  it('is a sha256 that ignores key order and the seal fields', () => {
    const pkg = basePackage();
    const hash = packageContentHash(pkg);
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(packageContentHash(reversed(pkg) as HandoffPackage)).toBe(hash);
    const sealed = sealPackage(pkg, hmacKey());
    expect(packageContentHash(sealed)).toBe(hash);
    expect(packageContentHash({ ...pkg, attempt: 2 })).not.toBe(hash);
  });
});

describe('sealPackage and verifyPackage with HMAC', () => {
  it('seals a copy and verifies it, also after a round trip through JSON with keys reordered', () => {
    const pkg = basePackage();
    const sealed = sealPackage(pkg, hmacKey());
    expect(pkg.content_hash).toBeNull(); // not mutated
    expect(HandoffPackageSchema.parse(sealed)).toEqual(sealed);
    expect(sealed.signature).toMatchObject({ alg: 'hmac-sha256', key_id: hmacKey().keyId });
    expect(verifyPackage(sealed, [hmacKey()])).toEqual({ ok: true, keyId: hmacKey().keyId });
    const reread = JSON.parse(JSON.stringify(reversed(sealed))) as HandoffPackage;
    expect(verifyPackage(reread, [hmacKey()])).toEqual({ ok: true, keyId: hmacKey().keyId });
  });

  it('refuses a package with one byte changed anywhere in its content', () => {
    const sealed = sealPackage(basePackage(), hmacKey());
    const tampered: Array<(p: HandoffPackage) => void> = [
      (p) => {
        const nested = p.global_context.nested as { label: string };
        nested.label = nested.label.replace('h', 'j');
      },
      (p) => {
        p.phase_config.depth = 4;
      },
      (p) => {
        p.execution_instructions.command = ['run', '--fasT'];
      },
      (p) => {
        p.execution_instructions.env.EXTRA = '1';
      },
      (p) => {
        p.to_phase = '3';
      },
    ];
    for (const change of tampered) {
      const copy = structuredClone(sealed);
      change(copy);
      expect(expectProblem(verifyPackage(copy, [hmacKey()]))).toBe(
        "content_hash does not match the package's content: it was changed after it was sealed",
      );
    }
  });

  it('refuses a tampered package that was re-hashed but not re-signed', () => {
    const sealed = sealPackage(basePackage(), hmacKey());
    const copy = structuredClone(sealed);
    copy.phase_config.depth = 99;
    copy.content_hash = packageContentHash(copy);
    expect(expectProblem(verifyPackage(copy, [hmacKey()]))).toBe(
      'the signature does not match: the package was changed or signed with another key',
    );
  });

  it('refuses a package signed with another key under the same id', () => {
    const forged = sealPackage(basePackage(), { ...hmacKey(OTHER_SECRET), keyId: hmacKey().keyId });
    expect(expectProblem(verifyPackage(forged, [hmacKey()]))).toMatch(/^the signature does not match/);
  });

  it('refuses a key id that is not configured, naming the id and the fix', () => {
    const sealed = sealPackage(basePackage(), hmacKey(OTHER_SECRET));
    const problem = expectProblem(verifyPackage(sealed, [hmacKey()]));
    expect(problem).toContain(`signed with key ${hmacKey(OTHER_SECRET).keyId} which is not configured here`);
    expect(problem).toContain('BATON_HANDOFF_KEY');
    expect(problem).toContain(hmacKey().keyId);
    expect(expectProblem(verifyPackage(sealed, []))).toContain('keys configured here: none');
  });

  it('does not let an HMAC key check an ed25519 signature of the same id', () => {
    const sealed = sealPackage(basePackage(), hmacKey());
    const relabelled = { ...sealed, signature: { ...sealed.signature!, alg: 'ed25519' as const } };
    expect(expectProblem(verifyPackage(relabelled, [hmacKey()]))).toMatch(/which is not configured here/);
  });

  it('refuses an unsigned package unless allowUnsigned, and still checks its hash', () => {
    const unsigned = sealPackage(basePackage(), undefined);
    expect(unsigned.signature).toBeNull();
    expect(unsigned.content_hash).toBe(packageContentHash(basePackage()));
    expect(expectProblem(verifyPackage(unsigned, [hmacKey()]))).toBe(
      'the package has no signature; sign it on a worker with BATON_HANDOFF_KEY set, or pass --allow-unsigned to run it anyway',
    );
    expect(verifyPackage(unsigned, [hmacKey()], { allowUnsigned: true })).toEqual({ ok: true, keyId: null });
    expect(verifyPackage(basePackage(), [], { allowUnsigned: true })).toEqual({ ok: true, keyId: null });

    const changed = structuredClone(unsigned);
    changed.global_context.repo = '/elsewhere';
    expect(expectProblem(verifyPackage(changed, [], { allowUnsigned: true }))).toMatch(/^content_hash does not match/);
  });

  it('refuses a signature whose content_hash was removed, and a malformed signature value', () => {
    const sealed = sealPackage(basePackage(), hmacKey());
    expect(expectProblem(verifyPackage({ ...sealed, content_hash: null }, [hmacKey()]))).toMatch(/no content_hash/);
    const bad = { ...sealed, signature: { ...sealed.signature!, value: `${sealed.signature!.value}!` } };
    expect(expectProblem(verifyPackage(bad, [hmacKey()]))).toMatch(/not valid base64/);
  });
});

describe('keys from the environment', () => {
  it('derives the HMAC key id and signs with BATON_HANDOFF_KEY', () => {
    const key = signingKeyFromEnv({ BATON_HANDOFF_KEY: SECRET });
    expect(key).toEqual(hmacKey());
    expect(hmacKeyId(Buffer.from(SECRET))).toMatch(/^hmac:[0-9a-f]{16}$/);
    expect(signingKeyFromEnv({})).toBeUndefined();
    expect(verifyKeysFromEnv({})).toEqual([]);
    expect(signingKeyFromEnv({ BATON_HANDOFF_KEY: SECRET, BATON_HANDOFF_KEY_ID: 'ops-2026' })?.keyId).toBe('ops-2026');
  });

  it('reads BATON_HANDOFF_KEY_FILE, trimming the trailing newline', () => {
    const file = join(tempDir(), 'key');
    writeFileSync(file, `${SECRET}\n`);
    expect(signingKeyFromEnv({ BATON_HANDOFF_KEY_FILE: file })).toEqual(hmacKey());
    expect(verifyKeysFromEnv({ BATON_HANDOFF_KEY_FILE: file })).toEqual([hmacKey()]);
    expect(() => signingKeyFromEnv({ BATON_HANDOFF_KEY_FILE: join(tempDir(), 'missing') })).toThrow(/BATON_HANDOFF_KEY_FILE .*cannot be read \(ENOENT\)/);
  });

  it('refuses a BATON_HANDOFF_KEY shorter than 16 bytes without echoing it', () => {
    const short = 'short-secret-15';
    let message = '';
    try {
      signingKeyFromEnv({ BATON_HANDOFF_KEY: short });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^BATON_HANDOFF_KEY is too short: .*15 bytes.*at least 16/);
    expect(message).not.toContain(short);
    expect(() => verifyKeysFromEnv({ BATON_HANDOFF_KEY: short })).toThrow(/too short/);
    expect(signingKeyFromEnv({ BATON_HANDOFF_KEY: 'sixteen-bytes-ok' })?.alg).toBe('hmac-sha256');
  });

  it('generates secrets that are long enough and distinct', () => {
    const a = generateHmacSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(generateHmacSecret());
    expect(signingKeyFromEnv({ BATON_HANDOFF_KEY: a })?.alg).toBe('hmac-sha256');
  });

  it('signs with ed25519 from key files and verifies with the public key', () => {
    const dir = tempDir();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const privFile = join(dir, 'signing.pem');
    const pubFile = join(dir, 'signing.pub.pem');
    writeFileSync(privFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(pubFile, publicKey.export({ type: 'spki', format: 'pem' }));

    // Both configured: ed25519 wins for signing.
    const signer = signingKeyFromEnv({ BATON_HANDOFF_PRIVATE_KEY_FILE: privFile, BATON_HANDOFF_KEY: SECRET });
    expect(signer?.alg).toBe('ed25519');
    expect(signer?.keyId).toMatch(/^ed25519:[0-9a-f]{16}$/);
    const sealed = sealPackage(basePackage(), signer);
    expect(sealed.signature?.alg).toBe('ed25519');

    const verifierKeys = verifyKeysFromEnv({ BATON_HANDOFF_PUBLIC_KEY_FILE: pubFile });
    expect(verifierKeys.map((k) => k.keyId)).toEqual([signer?.keyId]);
    expect(verifyPackage(sealed, verifierKeys)).toEqual({ ok: true, keyId: signer?.keyId });

    // The signer's own environment verifies too, with each key listed once.
    const all = verifyKeysFromEnv({ BATON_HANDOFF_PRIVATE_KEY_FILE: privFile, BATON_HANDOFF_PUBLIC_KEY_FILE: pubFile, BATON_HANDOFF_KEY: SECRET });
    expect(all.map((k) => k.keyId)).toEqual([hmacKey().keyId, signer?.keyId]);
    expect(verifyPackage(sealed, all).ok).toBe(true);
    expect(verifyPackage(sealPackage(basePackage(), hmacKey()), all).ok).toBe(true);

    const copy = structuredClone(sealed);
    copy.phase_config.depth = 7;
    copy.content_hash = packageContentHash(copy);
    expect(expectProblem(verifyPackage(copy, verifierKeys))).toMatch(/^the signature does not match/);

    // Without the public key: not configured, pointing at the ed25519 variable.
    expect(expectProblem(verifyPackage(sealed, [hmacKey()]))).toMatch(/not configured here; set BATON_HANDOFF_PUBLIC_KEY_FILE/);

    // A private key given as the public key is refused rather than silently used.
    expect(() => verifyKeysFromEnv({ BATON_HANDOFF_PUBLIC_KEY_FILE: privFile })).toThrow(/holds a private key/);
  });

  it('never puts key material in a problem or an error', () => {
    const dir = tempDir();
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const privFile = join(dir, 'k.pem');
    writeFileSync(privFile, pem);
    const pemBody = pem.split('\n')[1]!;

    const sealed = sealPackage(basePackage(), hmacKey());
    const copy = structuredClone(sealed);
    copy.phase_config.depth = 5;
    const rehashed = { ...copy, content_hash: packageContentHash(copy) };
    const problems = [
      verifyPackage(copy, [hmacKey()]),
      verifyPackage(rehashed, [hmacKey()]),
      verifyPackage(sealed, [hmacKey(OTHER_SECRET)]),
      verifyPackage(sealed, [{ ...hmacKey(OTHER_SECRET), keyId: hmacKey().keyId }]),
      verifyPackage(sealPackage(basePackage(), undefined), [hmacKey()]),
      verifyPackage(sealPackage(basePackage(), signingKeyFromEnv({ BATON_HANDOFF_PRIVATE_KEY_FILE: privFile })), [hmacKey()]),
    ].map(expectProblem);

    const errors: string[] = [];
    for (const env of [
      { BATON_HANDOFF_KEY: 'tiny' },
      { BATON_HANDOFF_KEY: SECRET, BATON_HANDOFF_KEY_FILE: privFile },
      { BATON_HANDOFF_PUBLIC_KEY_FILE: privFile },
    ]) {
      try {
        verifyKeysFromEnv(env);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    expect(errors).toHaveLength(3);
    for (const text of [...problems, ...errors]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(OTHER_SECRET);
      expect(text).not.toContain('tiny');
      expect(text).not.toContain(pemBody);
    }
  });
});
