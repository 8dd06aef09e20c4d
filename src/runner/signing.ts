/**
 * Sealing and checking handoff packages and agents' results: a content hash over the canonical
 * JSON of the document, and an HMAC-SHA256 or Ed25519 signature over that hash.
 *
 * Node side only (workers and the CLI): it reads keys from the environment and files.
 * Messages name keys by id, never by their bytes.
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rfc8785 } from '../core/handoff/canonical.js';
import { SIGNATURE_ALGORITHMS, type HandoffPackage, type Signature } from '../core/handoff/schema.js';

export type SigningKey =
  | { alg: 'hmac-sha256'; keyId: string; secret: Buffer }
  | { alg: 'ed25519'; keyId: string; privateKey: KeyObject };

export type VerifyKey =
  | { alg: 'hmac-sha256'; keyId: string; secret: Buffer }
  | { alg: 'ed25519'; keyId: string; publicKey: KeyObject };

export type VerifyOutcome = { ok: true; keyId: string | null } | { ok: false; problem: string };

/** The shortest HMAC secret accepted, in bytes. */
export const MIN_HMAC_SECRET_BYTES = 16;

const ENV_KEY = 'BATON_HANDOFF_KEY';
const ENV_KEY_FILE = 'BATON_HANDOFF_KEY_FILE';
const ENV_KEY_ID = 'BATON_HANDOFF_KEY_ID';
const ENV_PRIVATE_KEY_FILE = 'BATON_HANDOFF_PRIVATE_KEY_FILE';
const ENV_PUBLIC_KEY_FILE = 'BATON_HANDOFF_PUBLIC_KEY_FILE';

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** A document sealed the same way: a package, or an agent's result. */
export interface Sealable {
  content_hash: string | null;
  signature: Signature | null;
}

/** sha256 over the RFC 8785 canonical JSON (UTF-8) of the document minus `content_hash` and `signature`: "sha256:<hex>" (docs/agent-contract.md). */
export function contentHash(doc: Sealable): string {
  const { content_hash: _hash, signature: _signature, ...content } = doc;
  return `sha256:${sha256Hex(rfc8785(content))}`;
}

export const packageContentHash: (pkg: HandoffPackage) => string = contentHash;

function signatureValue(key: SigningKey, contentHash: string): string {
  const data = Buffer.from(contentHash, 'utf8');
  if (key.alg === 'hmac-sha256') return createHmac('sha256', key.secret).update(data).digest('base64');
  return sign(null, data, key.privateKey).toString('base64');
}

/** Returns a copy with content_hash and signature set (signature over the content_hash string, utf8). */
export function seal<T extends Sealable>(doc: T, key: SigningKey | undefined): T {
  const hash = contentHash(doc);
  const signature: Signature | null = key ? { alg: key.alg, key_id: key.keyId, value: signatureValue(key, hash) } : null;
  return { ...doc, content_hash: hash, signature };
}

export const sealPackage: (pkg: HandoffPackage, key: SigningKey | undefined) => HandoffPackage = seal;

/** A value from the package, safe to put in a message: no control characters, bounded length. */
function shown(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}

/** Strict base64 (what sealPackage writes), so one signature has one spelling. */
function decodeBase64(value: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return null;
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes : null;
}

function signatureMatches(key: VerifyKey, contentHash: string, given: Buffer): boolean {
  const data = Buffer.from(contentHash, 'utf8');
  if (key.alg === 'hmac-sha256') {
    const expected = createHmac('sha256', key.secret).update(data).digest();
    // The length of an HMAC-SHA256 is public (32 bytes); only the bytes need a constant-time compare.
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
  try {
    return verify(null, data, key.publicKey, given);
  } catch {
    return false;
  }
}

const UNSIGNED_PROBLEM = {
  package: `the package has no signature; sign it on a worker with ${ENV_KEY} set, or pass --allow-unsigned to run it anyway`,
  result: `the result has no signature; set ${ENV_KEY} (or ${ENV_PRIVATE_KEY_FILE}) where the agent runs, so it signs what it reports`,
};

export interface VerifyOptions {
  allowUnsigned?: boolean;
  /** What is being checked, for the messages. */
  noun?: 'package' | 'result';
}

export function verifyPackage(pkg: HandoffPackage, keys: readonly VerifyKey[], opts: VerifyOptions = {}): VerifyOutcome {
  return verifySealed(pkg, keys, { ...opts, noun: 'package' });
}

/**
 * Recomputes the hash (catches any changed byte of content), then checks the signature in
 * constant time (crypto.timingSafeEqual for HMAC; crypto.verify for ed25519).
 *
 * The key is chosen by the signature's `key_id` and must have the signature's algorithm, so an
 * Ed25519 public key can never be used as an HMAC secret.
 */
export function verifySealed(doc: Sealable, keys: readonly VerifyKey[], opts: VerifyOptions = {}): VerifyOutcome {
  const allowUnsigned = opts.allowUnsigned === true;
  const noun = opts.noun ?? 'package';
  // The document usually comes from a file: do not trust the types for the two seal fields.
  const claimedHash: unknown = doc.content_hash;
  const signature: unknown = doc.signature;

  let actualHash: string;
  try {
    actualHash = contentHash(doc);
  } catch (err) {
    return { ok: false, problem: `the ${noun}'s content cannot be hashed: ${err instanceof Error ? err.message : String(err)}` };
  }

  if (claimedHash !== null && claimedHash !== undefined) {
    if (typeof claimedHash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(claimedHash)) {
      return { ok: false, problem: `content_hash is not of the form "sha256:<64 hex digits>": the ${noun} is damaged or was not sealed by baton` };
    }
    if (claimedHash !== actualHash) {
      return { ok: false, problem: `content_hash does not match the ${noun}'s content: it was changed after it was sealed` };
    }
  }

  if (signature === null || signature === undefined) {
    return allowUnsigned ? { ok: true, keyId: null } : { ok: false, problem: UNSIGNED_PROBLEM[noun] };
  }
  if (claimedHash === null || claimedHash === undefined) {
    return { ok: false, problem: `the ${noun} has a signature but no content_hash: it was changed after it was sealed` };
  }

  const sig = signature as Partial<Record<keyof Signature, unknown>>;
  if (typeof sig !== 'object' || typeof sig.alg !== 'string' || typeof sig.key_id !== 'string' || typeof sig.value !== 'string' || sig.key_id === '') {
    return { ok: false, problem: 'the signature is malformed: it needs string fields alg, key_id and value' };
  }
  const alg = sig.alg;
  if (!(SIGNATURE_ALGORITHMS as readonly string[]).includes(alg)) {
    return { ok: false, problem: `the signature uses the unknown algorithm ${shown(alg)}; baton knows ${SIGNATURE_ALGORITHMS.join(' and ')}` };
  }
  const keyId = sig.key_id;

  const candidates = keys.filter((k) => k.keyId === keyId && k.alg === alg);
  if (candidates.length === 0) {
    const configured = keys.length > 0 ? keys.map((k) => k.keyId).join(', ') : 'none';
    const fix =
      alg === 'ed25519'
        ? `set ${ENV_PUBLIC_KEY_FILE} to the public key it was signed with (or ${ENV_KEY} for hmac-sha256)`
        : `set ${ENV_KEY} (or ${ENV_PUBLIC_KEY_FILE} for ed25519) to the key it was signed with`;
    return { ok: false, problem: `signed with key ${shown(keyId)} which is not configured here; ${fix} (keys configured here: ${configured})` };
  }

  const given = decodeBase64(sig.value);
  if (given === null) return { ok: false, problem: `the signature value is not valid base64: the ${noun} is damaged` };
  if (candidates.some((k) => signatureMatches(k, actualHash, given))) return { ok: true, keyId };
  return { ok: false, problem: `the signature does not match: the ${noun} was changed or signed with another key` };
}

/** "hmac:" + the first 16 hex digits of sha256("baton-key-id:" + secret). */
export function hmacKeyId(secret: Buffer): string {
  return `hmac:${sha256Hex(Buffer.concat([Buffer.from('baton-key-id:', 'utf8'), secret])).slice(0, 16)}`;
}

/** "ed25519:" + the first 16 hex digits of sha256 of the DER (SPKI) public key. */
export function ed25519KeyId(publicKey: KeyObject): string {
  return `ed25519:${sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16)}`;
}

/** A fresh HMAC secret for BATON_HANDOFF_KEY: 32 random bytes, base64url. */
export function generateHmacSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A fresh Ed25519 key pair as the PEM files BATON_HANDOFF_PRIVATE_KEY_FILE (PKCS#8) and
 * BATON_HANDOFF_PUBLIC_KEY_FILE (SPKI) take, and the key id packages signed with it carry.
 */
export function generateEd25519KeyPair(): { privateKeyPem: string; publicKeyPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: ed25519KeyId(publicKey),
  };
}

const envValue = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
};

function readKeyFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${variable} names ${path}, which cannot be read${code ? ` (${code})` : ''}; point it at a readable key file or unset it`);
  }
}

function hmacFromEnv(env: NodeJS.ProcessEnv): Extract<SigningKey, { alg: 'hmac-sha256' }> | undefined {
  const inline = envValue(env, ENV_KEY);
  const file = envValue(env, ENV_KEY_FILE);
  if (inline !== undefined && file !== undefined) {
    throw new Error(`both ${ENV_KEY} and ${ENV_KEY_FILE} are set; set only one of them`);
  }
  let secret: Buffer;
  let source: string;
  let variable: string;
  if (inline !== undefined) {
    secret = Buffer.from(inline, 'utf8');
    source = 'it';
    variable = ENV_KEY;
  } else if (file !== undefined) {
    const bytes = readKeyFile(ENV_KEY_FILE, file);
    let end = bytes.length;
    while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
    secret = bytes.subarray(0, end);
    source = `the file ${file}`;
    variable = ENV_KEY_FILE;
  } else {
    return undefined;
  }
  if (secret.length < MIN_HMAC_SECRET_BYTES) {
    throw new Error(
      `${variable} is too short: ${source} holds ${secret.length} bytes and at least ${MIN_HMAC_SECRET_BYTES} are needed; ` +
        `generate one with \`baton keygen\` (or \`node -e "console.log(require('node:crypto').randomBytes(32).toString('base64url'))"\`) and set it on every worker and client`,
    );
  }
  const keyId = envValue(env, ENV_KEY_ID) ?? hmacKeyId(secret);
  return { alg: 'hmac-sha256', keyId, secret };
}

function ed25519PrivateFromEnv(env: NodeJS.ProcessEnv): Extract<SigningKey, { alg: 'ed25519' }> | undefined {
  const file = envValue(env, ENV_PRIVATE_KEY_FILE);
  if (file === undefined) return undefined;
  const pem = readKeyFile(ENV_PRIVATE_KEY_FILE, file);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error(
      `${ENV_PRIVATE_KEY_FILE} names ${file}, which does not hold a PEM private key; create one with \`baton keygen --ed25519 --out ${file}\` (or \`openssl genpkey -algorithm ed25519 -out ${file}\`)`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${ENV_PRIVATE_KEY_FILE} names ${file}, which holds a ${privateKey.asymmetricKeyType ?? 'non-Ed25519'} key; baton signs with ed25519 keys only`);
  }
  return { alg: 'ed25519', keyId: ed25519KeyId(createPublicKey(privateKey)), privateKey };
}

function ed25519PublicFromEnv(env: NodeJS.ProcessEnv): Extract<VerifyKey, { alg: 'ed25519' }> | undefined {
  const file = envValue(env, ENV_PUBLIC_KEY_FILE);
  if (file === undefined) return undefined;
  const pem = readKeyFile(ENV_PUBLIC_KEY_FILE, file);
  // createPublicKey would accept a private key too; refuse it, since it should not be handed around.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem.toString('latin1'))) {
    throw new Error(
      `${ENV_PUBLIC_KEY_FILE} names ${file}, which holds a private key; give it the public key (\`openssl pkey -in ${file} -pubout\`) and keep the private key to the signer`,
    );
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error(`${ENV_PUBLIC_KEY_FILE} names ${file}, which does not hold a PEM public key (-----BEGIN PUBLIC KEY-----)`);
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${ENV_PUBLIC_KEY_FILE} names ${file}, which holds a ${publicKey.asymmetricKeyType ?? 'non-Ed25519'} key; baton verifies ed25519 keys only`);
  }
  return { alg: 'ed25519', keyId: ed25519KeyId(publicKey), publicKey };
}

/**
 * The key to seal packages with, from the environment: Ed25519 when BATON_HANDOFF_PRIVATE_KEY_FILE
 * is set, else the HMAC secret (BATON_HANDOFF_KEY or BATON_HANDOFF_KEY_FILE), else none.
 * Throws on a misconfigured key (even one it would not use), never echoing its bytes.
 */
export function signingKeyFromEnv(env: NodeJS.ProcessEnv = process.env): SigningKey | undefined {
  const hmac = hmacFromEnv(env);
  const ed25519 = ed25519PrivateFromEnv(env);
  return ed25519 ?? hmac;
}

/** Every key configured in the environment that can check a signature, each once. */
export function verifyKeysFromEnv(env: NodeJS.ProcessEnv = process.env): VerifyKey[] {
  const keys: VerifyKey[] = [];
  const hmac = hmacFromEnv(env);
  if (hmac) keys.push(hmac);
  const pub = ed25519PublicFromEnv(env);
  if (pub) keys.push(pub);
  const priv = ed25519PrivateFromEnv(env);
  if (priv && !keys.some((k) => k.alg === 'ed25519' && k.keyId === priv.keyId)) {
    keys.push({ alg: 'ed25519', keyId: priv.keyId, publicKey: createPublicKey(priv.privateKey) });
  }
  return keys;
}
