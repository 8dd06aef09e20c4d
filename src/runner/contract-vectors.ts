/**
 * The agent contract's test vectors (schema/vectors/, described in docs/agent-contract.md): keys,
 * canonical forms, a package and results sealed with them, for agents in any language to check
 * their own code against. Made by Baton's own code from fixed keys, so the same every time (Ed25519
 * signatures are deterministic): `npm run schema` writes them, tests/unit/contract-vectors.test.ts
 * checks the committed files against the code and the spec, and tests/fixtures/check_vectors.py
 * against Python's rfc8785, hashlib, hmac and cryptography.
 *
 * The keys are published: never use them for anything but these vectors.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { buildHandoffPackage, withPreviousContext, type PhaseProgress } from '../core/handoff/build.js';
import { rfc8785 } from '../core/handoff/canonical.js';
import { RESULT_SCHEMA_VERSION, type AgentResult } from '../core/handoff/result.js';
import type { HandoffPackage } from '../core/handoff/schema.js';
import { phaseKey } from '../core/plan/schema.js';
import { checkRun } from '../core/plan/validate.js';
import { ed25519KeyId, hmacKeyId, seal, type SigningKey } from './signing.js';

const NOTICE = 'Test vectors for the Baton agent contract (docs/agent-contract.md). The keys are published: never use them for anything else.';

/** An Ed25519 private key from its 32-byte seed: PKCS#8 DER is a fixed prefix and the seed. */
function ed25519FromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
}

const seedOf = (label: string): Buffer => createHash('sha256').update(`baton contract vectors: ${label}`).digest();

function ed25519Vector(label: string) {
  const privateKey = ed25519FromSeed(seedOf(label));
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    key: { alg: 'ed25519' as const, keyId: ed25519KeyId(publicKey), privateKey },
    vector: {
      alg: 'ed25519',
      seed_hex: seedOf(label).toString('hex'),
      private_key_pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      public_key_pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      public_key_spki_der_hex: spki.toString('hex'),
      key_id: ed25519KeyId(publicKey),
    },
  };
}

function hmacVector(keyIdOverride?: string) {
  // What `baton keygen` makes: 32 random bytes as base64url text. The key is that text's UTF-8 bytes.
  const text = seedOf('hmac').toString('base64url');
  const secret = Buffer.from(text, 'utf8');
  const keyId = keyIdOverride ?? hmacKeyId(secret);
  return {
    key: { alg: 'hmac-sha256' as const, keyId, secret },
    vector: {
      alg: 'hmac-sha256',
      BATON_HANDOFF_KEY: text,
      ...(keyIdOverride ? { BATON_HANDOFF_KEY_ID: keyIdOverride } : {}),
      secret_hex: secret.toString('hex'),
      key_id: keyId,
    },
  };
}

export function contractKeys() {
  return {
    hmac: hmacVector(),
    hmac_named: hmacVector('team-a-2026'),
    ed25519_workers: ed25519Vector('workers'),
    ed25519_agent: ed25519Vector('agent'),
  };
}
type KeyName = keyof ReturnType<typeof contractKeys>;

/** A context value stored by reference, as the context store names it. */
function storedRef(json: string): { $baton_ref: { sha256: string; size: number; path: string } } {
  const sha256 = createHash('sha256').update(json, 'utf8').digest('hex');
  return { $baton_ref: { sha256, size: Buffer.byteLength(json), path: `context-store/${sha256.slice(0, 2)}/${sha256}.json` } };
}

/** A package for an agent, built by the workflow's own builder from a plan that has a bit of everything. */
function agentPackage(): HandoffPackage {
  const { plan, config } = checkRun({
    name: 'vectors',
    workdir: '/srv/baton/vectors',
    global_context: {
      repo: 'git@example.com:acme/app.git',
      'zébra': 'ünïcödé ✓ 😀',
      Z: 'sorted by UTF-16 code units: "😀" (D83D) before "～" (FF5E)',
      '～': 'fullwidth tilde',
      '😀': 'grinning face',
      '10': 'keys are strings: "10" sorts before "9"',
      '9': 'nine',
      escapes: 'quote " backslash \\ slash / tab \t newline \n bell \u0007 delete \u007f line separator \u2028 escape \u001b',
      // Read as a JSON parser reads them: integers beyond 2^53 are doubles, rounded.
      numbers: [0, -0, 1, -1, 0.1, 1.5e-7, 0.000001, 1e21, ...['999999999999999900000', '12345678901234567890', '9007199254740993'].map(Number), 2 ** -1074, 1.7976931348623157e308, 333333333.3333333],
      nested: { list: [true, false, null, [], {}], empty: '' },
    },
    shared_artifacts: { inventory: 'data/inventory.csv' },
    phases: [
      { id: 0, name: 'Discovery', command: ['node', 'discover.mjs'] },
      {
        id: 'report',
        name: 'Write the report',
        depends_on: [0],
        command: ['node', 'report.mjs'],
        use_separate_agent: true,
        config: { audience: 'engineers', max_pages: 3 },
        output_schema: {
          type: 'object',
          required: ['summary', 'pages'],
          properties: { summary: { type: 'string', minLength: 1 }, pages: { type: 'integer', minimum: 1, maximum: 3 } },
        },
      },
    ],
  });
  const phasesByKey = new Map(plan.phases.map((p) => [phaseKey(p.id), p]));
  const progress = new Map<string, PhaseProgress>([
    [
      '0',
      {
        state: 'completed',
        attempts: 1,
        completedSeq: 0,
        output: {
          context: {
            files: 42,
            inventory_rows: storedRef('[["a.txt",1],["b.txt",2]]'),
          },
          artifacts: { listing: { path: 'out/listing.txt', sha256: createHash('sha256').update('a.txt\nb.txt\n').digest('hex'), size: 12 } },
        },
      },
    ],
    ['report', { state: 'ready', attempts: 0 }],
  ]);
  return withPreviousContext(
    buildHandoffPackage({
      executionId: 'vectors-run-1',
      plan,
      config,
      phase: phasesByKey.get('report')!,
      phasesByKey,
      progress,
      generation: 1,
      now: new Date('2026-12-01T09:00:00Z'),
      separateAgent: true,
      workdirMarked: true,
    }),
  );
}

function agentResult(pkg: HandoffPackage, outcome: 'completed' | 'failed'): AgentResult {
  return {
    schema_version: RESULT_SCHEMA_VERSION,
    execution_id: pkg.execution_id,
    phase: pkg.to_phase,
    generation: pkg.generation,
    attempt: pkg.attempt,
    package_hash: pkg.content_hash!,
    outcome,
    output: outcome === 'completed' ? { context: { summary: 'Two files, one listing; nothing to fix. ✓', pages: 1 }, artifacts: { report: { path: 'out/report.md', sha256: createHash('sha256').update('# Report\n').digest('hex'), size: 9 } } } : null,
    error: outcome === 'failed' ? 'the listing names a file that is not there: c.txt' : null,
    provenance: { host: 'agent-box', user: 'alice', agent: 'python-agent', mode: 'online', started_at: '2026-12-01T09:01:00Z', finished_at: '2026-12-01T09:04:30.250+01:00' },
    content_hash: null,
    signature: null,
  };
}

export interface SealedVector {
  name: string;
  kind: 'package' | 'result';
  /** Which file in schema/ the document matches. */
  schema: string;
  /** Which of keys.json signed it; null: sealed without a key. */
  key: KeyName | null;
  /** The canonical JSON of the document without content_hash and signature: what is hashed. */
  canonical: string;
  content_hash: string;
  signature: { alg: string; key_id: string; value: string } | null;
  document: HandoffPackage | AgentResult;
}

export interface RefusedVector {
  name: string;
  kind: 'package' | 'result';
  key: KeyName;
  /** Why a checker must refuse it. */
  why: string;
  document: HandoffPackage | AgentResult;
}

function sealedVector(name: string, kind: 'package' | 'result', doc: HandoffPackage | AgentResult, keyName: KeyName | null, keys: ReturnType<typeof contractKeys>): SealedVector {
  const key: SigningKey | undefined = keyName ? keys[keyName].key : undefined;
  const sealed = seal(doc, key);
  const { content_hash: _h, signature: _s, ...content } = sealed;
  return {
    name,
    kind,
    schema: kind === 'package' ? 'handoff-package.schema.json' : 'agent-result.schema.json',
    key: keyName,
    canonical: rfc8785(content),
    content_hash: sealed.content_hash!,
    signature: sealed.signature,
    document: sealed,
  };
}

/** Values and their canonical forms; `json` is the text to parse (key order, spacing and escapes as written). */
const CANONICAL_CASES: Array<{ name: string; json: string }> = [
  { name: 'keys sorted at every level, whitespace dropped', json: '{ "b": [3, 1, {"z": 1, "y": 2}], "a": { "d": 4, "c": null } }' },
  { name: 'keys sorted by UTF-16 code units, not code points', json: '{"\\uff5e": 1, "\\ud83d\\ude00": 2, "\\u00e9": 3, "a": 4, "Z": 5, "9": 6, "10": 7, "": 8}' },
  { name: "RFC 8785's sorting example", json: '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}' },
  { name: "RFC 8785's example", json: '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}' },
  { name: 'control characters: short escapes where JSON has them, else \\u00xx in lower case', json: '["\\u0000\\u0001\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u001B\\u001f"]' },
  { name: 'nothing else is escaped: DEL, U+2028, U+2029, "/", non-ASCII, astral', json: '["\\u007f \\u2028 \\u2029 \\/ \\u00e9 \\u20AC \\ud83d\\ude00 </script>"]' },
  { name: 'numbers: shortest round trip, ECMAScript form', json: '[1.0, -0, -0.0, 1E2, 4.50, 0.1, 1e-6, 1e-7, 123e-9, 1e20, 1e21, 100000000000000000000, 1.5e300, -5e-324]' },
  { name: 'integers beyond 2^53 are doubles: rounded as any JSON parser rounds them', json: '[9007199254740993, 12345678901234567890, 18446744073709551615]' },
  { name: 'empty containers and literals', json: '{"a": {}, "b": [], "c": "", "d": [null, true, false]}' },
];

const REFUSED_CASES: Array<{ name: string; json: string; why: string }> = [
  { name: 'a lone surrogate', json: '{"text": "\\ud800"}', why: 'not I-JSON (RFC 7493), which RFC 8785 requires' },
  { name: 'a number too large for a double', json: '[1e400]', why: 'parses as Infinity, which JSON cannot represent' },
];

/** IEEE 754 doubles by their bits (big-endian hex) and how RFC 8785 writes them (the RFC's appendix B, and a few more). */
const NUMBER_BITS = [
  '0000000000000000', '8000000000000000', '0000000000000001', '8000000000000001', '7fefffffffffffff', 'ffefffffffffffff',
  '4340000000000000', 'c340000000000000', '4430000000000000', '44b52d02c7e14af5', '44b52d02c7e14af6', '44b52d02c7e14af7',
  '444b1ae4d6e2ef4e', '444b1ae4d6e2ef4f', '444b1ae4d6e2ef50', '3eb0c6f7a0b5ed8c', '3eb0c6f7a0b5ed8d', '41b3de4355555553',
  '41b3de4355555554', '41b3de4355555555', '41b3de4355555556', '41b3de4355555557', 'becbf647612f3696', '43143ff3c1cb0959',
  '3ff0000000000000', '3fb999999999999a', '3fd3333333333333', '3e7ad7f29abcaf48', '3eb0c6f7a0b5ed8e', '444b1ae4d6e2ef51',
];
const NUMBER_REFUSED_BITS = ['7ff8000000000000', '7ff0000000000000', 'fff0000000000000'];

const fromBits = (hex: string): number => Buffer.from(hex, 'hex').readDoubleBE(0);

export function contractVectors(): { keys: Record<string, unknown>; canonical: Record<string, unknown>; sealed: { notice: string; vectors: SealedVector[]; refused: RefusedVector[] } } {
  const keys = contractKeys();
  const pkg = agentPackage();
  const byWorkers = sealedVector('a package for an agent, HMAC-SHA256', 'package', pkg, 'hmac', keys);
  const byWorkersEd = sealedVector('the same package, Ed25519 (the workers\' key)', 'package', pkg, 'ed25519_workers', keys);
  const forHmac = byWorkers.document as HandoffPackage;
  const forEd = byWorkersEd.document as HandoffPackage;
  const vectors: SealedVector[] = [
    byWorkers,
    byWorkersEd,
    sealedVector('a completed result for the HMAC package, HMAC-SHA256', 'result', agentResult(forHmac, 'completed'), 'hmac', keys),
    sealedVector('the same result, HMAC-SHA256 with BATON_HANDOFF_KEY_ID set', 'result', agentResult(forHmac, 'completed'), 'hmac_named', keys),
    sealedVector("a completed result for the Ed25519 package, Ed25519 (the agent's own key)", 'result', agentResult(forEd, 'completed'), 'ed25519_agent', keys),
    sealedVector('a failed result, sealed without a key (refused unless accept_unsigned_results)', 'result', agentResult(forHmac, 'failed'), null, keys),
  ];
  const good = vectors[2]!.document as AgentResult;
  const refused: RefusedVector[] = [
    { name: 'a result changed after it was sealed', kind: 'result', key: 'hmac', why: 'content_hash does not match the content', document: { ...good, output: { ...good.output!, context: { ...good.output!.context, pages: 2 } } } },
    {
      name: 'a result whose content_hash was recomputed but not its signature',
      kind: 'result',
      key: 'hmac',
      why: 'the signature does not match the content_hash',
      document: { ...seal({ ...good, attempt: 7 }, undefined), signature: good.signature },
    },
    { name: 'a package whose signature is not in strict base64', kind: 'package', key: 'hmac', why: 'the signature value is not canonical base64 with padding', document: { ...forHmac, signature: { ...forHmac.signature!, value: forHmac.signature!.value.replace(/=+$/, '') } } },
  ];
  return {
    keys: { notice: NOTICE, ...Object.fromEntries(Object.entries(keys).map(([name, k]) => [name, k.vector])) },
    canonical: {
      notice: NOTICE,
      values: CANONICAL_CASES.map((c) => {
        const canonical = rfc8785(JSON.parse(c.json));
        return { ...c, canonical, sha256: createHash('sha256').update(canonical, 'utf8').digest('hex') };
      }),
      refused: REFUSED_CASES,
      numbers: NUMBER_BITS.map((bits) => ({ bits, canonical: rfc8785(fromBits(bits)) })),
      numbers_refused: NUMBER_REFUSED_BITS,
    },
    sealed: { notice: NOTICE, vectors, refused },
  };
}
