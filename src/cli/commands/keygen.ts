/**
 * `baton keygen [--hmac | --ed25519] [--out FILE] [--force]`: a new key for signing handoff
 * packages and agents' results, written in exactly the form the variables that name key files
 * expect (src/runner/signing.ts), so the files work as they are.
 *
 * - HMAC-SHA256 (the default): 32 random bytes, base64url, one line, mode 0600; for
 *   BATON_HANDOFF_KEY_FILE (or, as text, BATON_HANDOFF_KEY).
 * - Ed25519: the private key as PKCS#8 PEM (mode 0600), for BATON_HANDOFF_PRIVATE_KEY_FILE, and the
 *   public key as SPKI PEM (mode 0644) beside it, for BATON_HANDOFF_PUBLIC_KEY_FILE.
 *
 * An existing file is never replaced without --force: runs signed with the old key could no longer
 * be checked.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { generateEd25519KeyPair, generateHmacSecret, hmacKeyId } from '../../runner/signing.js';
import { action, UsageError } from '../errors.js';

export const DEFAULT_HMAC_KEY_FILE = 'baton-handoff.key';
export const DEFAULT_ED25519_KEY_FILE = 'baton-handoff-ed25519.pem';

interface KeygenOptions {
  hmac?: boolean;
  ed25519?: boolean;
  out?: string;
  force?: boolean;
}

/** Where the public key goes: `key.pem` → `key.pub.pem`, anything else gets `.pub` added. */
export function publicKeyFileFor(privateFile: string): string {
  return privateFile.endsWith('.pem') ? `${privateFile.slice(0, -'.pem'.length)}.pub.pem` : `${privateFile}.pub`;
}

function refuseExisting(files: string[], known = false): void {
  const existing = known ? files : files.filter((f) => existsSync(f));
  if (existing.length === 0) return;
  throw new UsageError(
    `${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}; baton keygen does not replace a key ` +
      '(packages and results signed with it could no longer be checked). Choose another --out, or pass --force to replace it.',
  );
}

/** Writes a key file with exactly `mode` (whatever the umask), never through a half-written file. */
async function writeKeyFile(file: string, data: string, mode: number, replace: boolean): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!replace) {
    // wx: fails if the file appeared since it was checked, rather than writing into someone else's.
    try {
      await writeFile(file, data, { mode, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') refuseExisting([file], true);
      throw err;
    }
    await chmod(file, mode);
    return;
  }
  const tmp = `${file}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function hmacKey(out: string, force: boolean): Promise<string[]> {
  if (!force) refuseExisting([out]);
  const secret = generateHmacSecret();
  await writeKeyFile(out, `${secret}\n`, 0o600, force);
  return [
    `wrote an HMAC-SHA256 key, id ${hmacKeyId(Buffer.from(secret, 'utf8'))}, to ${out} (mode 0600)`,
    '',
    'Set it on every machine that signs or checks packages and results: the orchestrator worker, the',
    'phase workers, and the agents that run `baton execute-phase` (also `baton handoff validate`, `baton doctor`):',
    '',
    `  export BATON_HANDOFF_KEY_FILE=${out}`,
    '',
    `(or BATON_HANDOFF_KEY="$(cat ${out})"). It is a shared secret: whoever holds it can sign. Copy it`,
    'to those machines over a secure channel; never put it in a plan, a config or the repository.',
  ];
}

async function ed25519Key(out: string, force: boolean): Promise<string[]> {
  const pub = publicKeyFileFor(out);
  if (!force) refuseExisting([out, pub]);
  const pair = generateEd25519KeyPair();
  await writeKeyFile(out, pair.privateKeyPem, 0o600, force);
  try {
    await writeKeyFile(pub, pair.publicKeyPem, 0o644, force);
  } catch (err) {
    await rm(out, { force: true }); // a private key without its public half is of no use
    throw err;
  }
  return [
    `wrote an Ed25519 key pair, id ${pair.keyId}:`,
    `  private key ${out} (mode 0600)`,
    `  public key  ${pub} (mode 0644)`,
    '',
    'On the machines that sign packages and check results, the orchestrator worker and the phase workers:',
    '',
    `  export BATON_HANDOFF_PRIVATE_KEY_FILE=${out}`,
    '',
    'On the agents\' machines, which check packages (`baton execute-phase`, `baton handoff validate`, `baton doctor`)',
    'but cannot sign them:',
    '',
    `  export BATON_HANDOFF_PUBLIC_KEY_FILE=${pub}`,
    '',
    'Keep the private key to the workers. Agents holding only the public key report unsigned results,',
    'which a run refuses unless its config sets accept_unsigned_results; to have them signed, also give the',
    'agents and the orchestrator worker an HMAC key (baton keygen --hmac, BATON_HANDOFF_KEY_FILE).',
  ];
}

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('make a key for signing handoff packages and results, and say where to set it')
    .option('--hmac', 'an HMAC-SHA256 shared secret (the default)')
    .option('--ed25519', 'an Ed25519 key pair: workers sign with the private key, agents check with the public one')
    .option('--out <file>', `where to write the key (default ${DEFAULT_HMAC_KEY_FILE}; with --ed25519, ${DEFAULT_ED25519_KEY_FILE}, and the public key beside it as .pub.pem)`)
    .option('--force', 'replace existing key files')
    .action(
      action(async (opts: KeygenOptions) => {
        if (opts.hmac && opts.ed25519) throw new UsageError('choose one of --hmac and --ed25519');
        const force = opts.force === true;
        const out = path.resolve(opts.out ?? (opts.ed25519 ? DEFAULT_ED25519_KEY_FILE : DEFAULT_HMAC_KEY_FILE));
        const lines = opts.ed25519 ? await ed25519Key(out, force) : await hmacKey(out, force);
        console.log(lines.join('\n'));
      }),
    );
}
