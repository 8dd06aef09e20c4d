/**
 * `baton keygen`, run as a user runs it (the built CLI, in an empty directory): the files it writes
 * have the right modes, load with the same loaders workers and agents use, and sign packages that
 * verify; an existing key is never replaced without --force.
 */
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HandoffPackageSchema, type HandoffPackage } from '../../src/core/handoff/schema.js';
import { sealPackage, signingKeyFromEnv, verifyKeysFromEnv, verifyPackage } from '../../src/runner/signing.js';
import { BATON, tempDir } from '../support/baton.js';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function keygen(cwd: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BATON, 'keygen', ...args], { cwd, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function mode(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

/** A minimal valid package to sign. */
function samplePackage(): HandoffPackage {
  return HandoffPackageSchema.parse({
    schema_version: 1,
    execution_id: 'keygen-run',
    plan_name: 'keygen',
    from_phase: null,
    to_phase: 0,
    phase_name: 'Zero',
    previous_phase_context: null,
    dependency_contexts: {},
    shared_artifacts: {},
    global_context: {},
    state_summary: {},
    run_summary: { phases: 1, by_state: { running: 1 } },
    execution_instructions: {
      mode: 'inline',
      workdir: '.baton/keygen',
      base_dir: null,
      command: ['true'],
      handler: null,
      task_queue: 'baton-default',
      save_handoff: false,
      on_handoff_failure: 'inline',
      timeout_s: 60,
      retries: 0,
      env: {},
      report: 'exit 0',
    },
    phase_config: {},
    safe_keys: [],
    generation: 1,
    attempt: 1,
    depends_on: [],
    created_at: new Date(0).toISOString(),
    content_hash: null,
    signature: null,
  });
}

describe('baton keygen', () => {
  it('writes an HMAC key (mode 0600) that BATON_HANDOFF_KEY_FILE loads and signs with, and will not replace it', async () => {
    const dir = await tempDir('baton-keygen-');
    const made = await keygen(dir, []);
    expect(made.code, made.stderr).toBe(0);
    const file = path.join(dir, 'baton-handoff.key');
    expect(await mode(file)).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^[A-Za-z0-9_-]{43}\n$/); // 32 bytes, base64url, one line
    expect(made.stdout).toContain(`export BATON_HANDOFF_KEY_FILE=${file}`);

    const key = signingKeyFromEnv({ BATON_HANDOFF_KEY_FILE: file });
    expect(key?.alg).toBe('hmac-sha256');
    expect(made.stdout).toContain(key!.keyId); // the id it prints is the one packages will carry
    // The file and its text as BATON_HANDOFF_KEY are the same key.
    expect(signingKeyFromEnv({ BATON_HANDOFF_KEY: text.trim() })?.keyId).toBe(key!.keyId);
    const sealed = sealPackage(samplePackage(), key);
    expect(verifyPackage(sealed, verifyKeysFromEnv({ BATON_HANDOFF_KEY_FILE: file }))).toEqual({ ok: true, keyId: key!.keyId });

    // Again: refused, exit 2, the key untouched.
    const again = await keygen(dir, ['--hmac']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; baton keygen does not replace a key .*--force/);
    expect(await readFile(file, 'utf8')).toBe(text);

    // --force replaces it, still 0600, even over a file that was world-readable.
    await writeFile(file, 'an old key that was left readable\n', { mode: 0o644 });
    const forced = await keygen(dir, ['--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await mode(file)).toBe(0o600);
    expect(await readFile(file, 'utf8')).not.toBe(text);
  });

  it('writes an Ed25519 pair (0600 / 0644): workers sign with the private key, agents verify with the public one', async () => {
    const dir = await tempDir('baton-keygen-');
    const made = await keygen(dir, ['--ed25519', '--out', 'keys/handoff.pem']);
    expect(made.code, made.stderr).toBe(0);
    const privateFile = path.join(dir, 'keys/handoff.pem');
    const publicFile = path.join(dir, 'keys/handoff.pub.pem');
    expect(await mode(privateFile)).toBe(0o600);
    expect(await mode(publicFile)).toBe(0o644);
    expect(await readFile(privateFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(await readFile(publicFile, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(made.stdout).toContain(`export BATON_HANDOFF_PRIVATE_KEY_FILE=${privateFile}`);
    expect(made.stdout).toContain(`export BATON_HANDOFF_PUBLIC_KEY_FILE=${publicFile}`);

    const signer = signingKeyFromEnv({ BATON_HANDOFF_PRIVATE_KEY_FILE: privateFile });
    expect(signer?.alg).toBe('ed25519');
    expect(made.stdout).toContain(signer!.keyId);
    const agentKeys = verifyKeysFromEnv({ BATON_HANDOFF_PUBLIC_KEY_FILE: publicFile });
    expect(agentKeys.map((k) => k.keyId)).toEqual([signer!.keyId]);
    const sealed = sealPackage(samplePackage(), signer);
    expect(verifyPackage(sealed, agentKeys)).toEqual({ ok: true, keyId: signer!.keyId });
    // An agent holding only the public key has nothing to sign with.
    expect(signingKeyFromEnv({ BATON_HANDOFF_PUBLIC_KEY_FILE: publicFile })).toBeUndefined();

    // Neither file is replaced, even when only one of them exists.
    const privateText = await readFile(privateFile, 'utf8');
    const again = await keygen(dir, ['--ed25519', '--out', 'keys/handoff.pem']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exist/);
    expect(await readFile(privateFile, 'utf8')).toBe(privateText);
    const onlyPublic = path.join(dir, 'other.pub.pem');
    await writeFile(onlyPublic, 'someone else\'s public key\n');
    const clash = await keygen(dir, ['--ed25519', '--out', 'other.pem']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain(onlyPublic);
    expect(await readFile(onlyPublic, 'utf8')).toBe('someone else\'s public key\n');
    await expect(stat(path.join(dir, 'other.pem'))).rejects.toThrow(/ENOENT/);
  });

  it('takes one of --hmac and --ed25519', async () => {
    const dir = await tempDir('baton-keygen-');
    const both = await keygen(dir, ['--hmac', '--ed25519']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('choose one of --hmac and --ed25519');
  });
});
