/**
 * The agent contract's test vectors (schema/vectors/): current with the code, and right by the
 * spec (docs/agent-contract.md) as an agent would check them, with node:crypto and Ajv rather than
 * Baton's sealing code; and Baton's own checks accept the good ones and refuse the bad ones.
 * tests/fixtures/check_vectors.py checks the same files in Python.
 */
import { createHash, createHmac, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { rfc8785 } from '../../src/core/handoff/canonical.js';
import { AgentResultSchema } from '../../src/core/handoff/result.js';
import { HandoffPackageSchema } from '../../src/core/handoff/schema.js';
import { contractVectors, type RefusedVector, type SealedVector } from '../../src/runner/contract-vectors.js';
import { verifyKeysFromEnv, verifySealed, type Sealable } from '../../src/runner/signing.js';

const read = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../schema/vectors/${name}.json`, import.meta.url), 'utf8'));

interface KeyVector {
  alg: string;
  BATON_HANDOFF_KEY?: string;
  BATON_HANDOFF_KEY_ID?: string;
  secret_hex?: string;
  private_key_pem?: string;
  public_key_pem?: string;
  public_key_spki_der_hex?: string;
  key_id: string;
}
const keys = read('keys') as Record<string, KeyVector>;
const sealed = read('sealed') as { vectors: SealedVector[]; refused: RefusedVector[] };
const canonical = read('canonical') as {
  values: Array<{ name: string; json: string; canonical: string; sha256: string }>;
  refused: Array<{ name: string; json: string }>;
  numbers: Array<{ bits: string; canonical: string }>;
  numbers_refused: string[];
};

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The environment a machine holding this key would have (key files written out as Baton reads them). */
function envFor(name: string, as: 'signer' | 'checker'): NodeJS.ProcessEnv {
  const k = keys[name]!;
  if (k.alg === 'hmac-sha256') return { BATON_HANDOFF_KEY: k.BATON_HANDOFF_KEY, ...(k.BATON_HANDOFF_KEY_ID ? { BATON_HANDOFF_KEY_ID: k.BATON_HANDOFF_KEY_ID } : {}) };
  const dir = mkdtempSync(join(tmpdir(), 'baton-vectors-'));
  dirs.push(dir);
  const file = join(dir, as === 'signer' ? 'key.pem' : 'key.pub.pem');
  writeFileSync(file, as === 'signer' ? k.private_key_pem! : k.public_key_pem!);
  return as === 'signer' ? { BATON_HANDOFF_PRIVATE_KEY_FILE: file } : { BATON_HANDOFF_PUBLIC_KEY_FILE: file };
}

const withoutSeal = (doc: object): object => {
  const { content_hash: _h, signature: _s, ...rest } = doc as Record<string, unknown>;
  return rest;
};

describe('the contract test vectors (schema/vectors/)', () => {
  it('are what the code makes now (`npm run schema` writes them)', () => {
    const made = contractVectors();
    expect(read('keys')).toEqual(JSON.parse(JSON.stringify(made.keys)));
    expect(read('canonical')).toEqual(JSON.parse(JSON.stringify(made.canonical)));
    expect(read('sealed')).toEqual(JSON.parse(JSON.stringify(made.sealed)));
  });

  it('derive key ids as the spec says', () => {
    for (const [name, k] of Object.entries(keys)) {
      if (name === 'notice') continue;
      if (k.BATON_HANDOFF_KEY_ID) expect(k.key_id).toBe(k.BATON_HANDOFF_KEY_ID);
      else if (k.alg === 'hmac-sha256') {
        expect(Buffer.from(k.BATON_HANDOFF_KEY!, 'utf8').toString('hex')).toBe(k.secret_hex); // the text's bytes, not base64-decoded
        expect(k.key_id).toBe(`hmac:${createHash('sha256').update(Buffer.concat([Buffer.from('baton-key-id:'), Buffer.from(k.secret_hex!, 'hex')])).digest('hex').slice(0, 16)}`);
      } else {
        const der = createPublicKey(k.public_key_pem!).export({ type: 'spki', format: 'der' });
        expect(der.toString('hex')).toBe(k.public_key_spki_der_hex);
        expect(k.key_id).toBe(`ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`);
      }
    }
  });

  it('hash and sign by the spec: RFC 8785 of all but content_hash and signature, sha256, then HMAC or Ed25519 over "sha256:<hex>"', () => {
    expect(sealed.vectors.length).toBeGreaterThanOrEqual(6);
    for (const v of sealed.vectors) {
      const doc = v.document as unknown as Record<string, unknown>;
      expect(rfc8785(withoutSeal(doc)), v.name).toBe(v.canonical);
      expect(v.content_hash, v.name).toBe(`sha256:${createHash('sha256').update(Buffer.from(v.canonical, 'utf8')).digest('hex')}`);
      expect(doc.content_hash).toBe(v.content_hash);
      expect(doc.signature).toEqual(v.signature);
      if (v.key === null) {
        expect(v.signature).toBeNull();
        continue;
      }
      const k = keys[v.key]!;
      expect(v.signature).toMatchObject({ alg: k.alg, key_id: k.key_id });
      expect(v.signature!.value).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      expect(v.signature!.value.length % 4).toBe(0);
      const data = Buffer.from(v.content_hash, 'utf8');
      if (k.alg === 'hmac-sha256') {
        expect(v.signature!.value, v.name).toBe(createHmac('sha256', Buffer.from(k.secret_hex!, 'hex')).update(data).digest('base64'));
      } else {
        expect(verify(null, data, createPublicKey(k.public_key_pem!), Buffer.from(v.signature!.value, 'base64')), v.name).toBe(true);
      }
    }
  });

  it('match the published JSON Schemas (Ajv, draft 2020-12, formats checked) and the zod schemas', () => {
    const require = createRequire(import.meta.url);
    const Ajv2020 = require('ajv/dist/2020').default as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
    const addFormats = require('ajv-formats') as (a: unknown) => void;
    const ajv = new Ajv2020({ allErrors: true, strict: true }); // strict: as an agent might, so a sloppy published schema fails here
    addFormats(ajv);
    for (const v of sealed.vectors) {
      const validate = ajv.compile(JSON.parse(readFileSync(new URL(`../../schema/${v.schema}`, import.meta.url), 'utf8')) as object);
      expect(validate(v.document), `${v.name}: ${JSON.stringify(validate.errors)}`).toBe(true);
      const zod = v.kind === 'package' ? HandoffPackageSchema : AgentResultSchema;
      expect(zod.parse(v.document), v.name).toEqual(v.document);
    }
    const resultSchema = ajv.compile(JSON.parse(readFileSync(new URL('../../schema/agent-result.schema.json', import.meta.url), 'utf8')) as object);
    const result = sealed.vectors.find((v) => v.kind === 'result')!.document;
    // A half-made reference and a date that is not RFC 3339 are refused by the schema, as by the run.
    expect(resultSchema({ ...result, output: { context: { big: { $baton_ref: { sha256: 'abc' } } }, artifacts: {} } })).toBe(false);
    expect(resultSchema({ ...result, provenance: { ...(result as { provenance: object }).provenance, finished_at: 'yesterday' } })).toBe(false);
  });

  it('bind each result to its package: run, phase, generation, attempt and content_hash', () => {
    const packages = sealed.vectors.filter((v) => v.kind === 'package');
    for (const v of sealed.vectors.filter((r) => r.kind === 'result')) {
      const r = v.document as Record<string, unknown>;
      const pkg = packages.find((p) => p.content_hash === r.package_hash)?.document as Record<string, unknown> | undefined;
      expect(pkg, v.name).toBeDefined();
      expect([r.execution_id, r.phase, r.generation, r.attempt]).toEqual([pkg!.execution_id, pkg!.to_phase, pkg!.generation, pkg!.attempt]);
    }
    const pkg = packages[0]!.document as Record<string, unknown>;
    expect(pkg.output_schema).toMatchObject({ required: ['summary', 'pages'] });
  });

  it("pass Baton's own checks with the key where it would be, and the refused ones are refused", () => {
    for (const v of sealed.vectors) {
      const env = v.key ? envFor(v.key, 'checker') : {};
      const outcome = verifySealed(v.document as Sealable, verifyKeysFromEnv(env), { allowUnsigned: v.key === null, noun: v.kind });
      expect(outcome, v.name).toEqual({ ok: true, keyId: v.signature?.key_id ?? null });
    }
    const why: Record<string, RegExp> = {
      'a result changed after it was sealed': /content_hash does not match/,
      'a result whose content_hash was recomputed but not its signature': /signature does not match/,
      'a package whose signature is not in strict base64': /not valid base64/,
    };
    expect(sealed.refused.map((r) => r.name).sort()).toEqual(Object.keys(why).sort());
    for (const r of sealed.refused) {
      const outcome = verifySealed(r.document as Sealable, verifyKeysFromEnv(envFor(r.key, 'checker')), { noun: r.kind });
      expect(outcome.ok, r.name).toBe(false);
      expect(outcome.ok ? '' : outcome.problem, r.name).toMatch(why[r.name]!);
    }
  });

  it('canonical forms: each value, each double by its bits, and the refused ones', () => {
    for (const c of canonical.values) {
      expect(rfc8785(JSON.parse(c.json)), c.name).toBe(c.canonical);
      expect(createHash('sha256').update(c.canonical, 'utf8').digest('hex'), c.name).toBe(c.sha256);
    }
    for (const n of canonical.numbers) expect(rfc8785(Buffer.from(n.bits, 'hex').readDoubleBE(0)), n.bits).toBe(n.canonical);
    for (const bits of canonical.numbers_refused) expect(() => rfc8785(Buffer.from(bits, 'hex').readDoubleBE(0))).toThrow();
    for (const c of canonical.refused) expect(() => rfc8785(JSON.parse(c.json)), c.name).toThrow();
  });
});

describe('results under Ed25519', () => {
  it("are accepted when signed with the agent's own key, whose public half the orchestrator worker has", () => {
    // The agent: checks packages with the workers' public key, signs results with its own private key.
    const agent = { ...envFor('ed25519_workers', 'checker'), ...envFor('ed25519_agent', 'signer') };
    // The orchestrator worker: signs packages with the workers' key, checks results with the agent's public key.
    const orchestrator = { ...envFor('ed25519_workers', 'signer'), ...envFor('ed25519_agent', 'checker') };
    const pkg = sealed.vectors.find((v) => v.kind === 'package' && v.key === 'ed25519_workers')!;
    const result = sealed.vectors.find((v) => v.kind === 'result' && v.key === 'ed25519_agent')!;
    expect(verifySealed(pkg.document as Sealable, verifyKeysFromEnv(agent), { noun: 'package' })).toEqual({ ok: true, keyId: keys.ed25519_workers!.key_id });
    expect(verifySealed(result.document as Sealable, verifyKeysFromEnv(orchestrator), { noun: 'result' })).toEqual({ ok: true, keyId: keys.ed25519_agent!.key_id });
    // Without the agent's public key the orchestrator worker refuses it, naming the key.
    const alone = verifySealed(result.document as Sealable, verifyKeysFromEnv(envFor('ed25519_workers', 'signer')), { noun: 'result' });
    expect(alone).toMatchObject({ ok: false, problem: expect.stringContaining(`signed with key ${keys.ed25519_agent!.key_id} which is not configured here`) });
  });
});
