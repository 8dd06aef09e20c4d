/**
 * The agent contract from outside: a Python agent (tests/fixtures/agent.py) that knows only the
 * JSON Schemas in schema/ and docs/agent-contract.md, with the Temporal Python SDK, python-jsonschema,
 * rfc8785 and cryptography from PyPI, takes a phase from a real run: it checks the package's schema,
 * hash and HMAC signature, does the work, and reports a sealed result through the completePhase
 * update. Results the run must refuse come back as ResultRefused while the phase keeps waiting. The
 * test vectors, and thousands of random values, are checked in Python too.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { rfc8785 } from '../../src/core/handoff/canonical.js';
import { HandoffPackageSchema } from '../../src/core/handoff/schema.js';
import { FIXTURES, fixturePhase, tempDir, until, workerForFile } from '../support/baton.js';
import { pythonAgentVenv, runPython, type PythonRun } from '../support/python-agent.js';

const KEY = 'python-agent-test-key-0123456789abcdef';
const setup = workerForFile([], { BATON_HANDOFF_KEY: KEY });
let python = '';
beforeAll(async () => {
  python = await pythonAgentVenv();
}, 600_000);

const AGENT = path.join(FIXTURES, 'agent.py');
const agentEnv = (): NodeJS.ProcessEnv => ({ BATON_HANDOFF_KEY: KEY, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: 'default' });
const shown = (r: PythonRun): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

/** Random JSON values of every kind, seeded: strings over all of Unicode (lone surrogates apart), doubles by their bits. */
function randomValues(count: number, seed: number): unknown[] {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const buf = Buffer.alloc(8);
  const char = (): string => {
    const pick = next();
    if (pick < 0.3) return String.fromCharCode(0x20 + int(0x5f)); // ASCII
    if (pick < 0.45) return String.fromCharCode(int(0x20)); // controls
    if (pick < 0.55) return ['"', '\\', '/', '\u007f', '\u2028', '\u2029', '\ufeff', '\ufffd'][int(8)]!;
    if (pick < 0.8) return String.fromCharCode(0xa0 + int(0xd800 - 0xa0)); // the BMP below the surrogates
    if (pick < 0.9) return String.fromCharCode(0xe000 + int(0x2000)); // above them
    return String.fromCodePoint(0x10000 + int(0x100000)); // astral: a surrogate pair
  };
  const string = (): string => Array.from({ length: int(12) }, char).join('');
  const number = (): number => {
    const pick = next();
    if (pick < 0.25) return int(2000) - 1000;
    if (pick < 0.4) return (int(2 ** 30) - 2 ** 29) / 10 ** int(12);
    if (pick < 0.5) return [0, -0, 1e21, 1e-7, 1e-6, 999999999999999900000, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE][int(10)]!;
    for (;;) {
      buf.writeUInt32BE(int(0x1_0000_0000), 0);
      buf.writeUInt32BE(int(0x1_0000_0000), 4);
      const x = buf.readDoubleBE(0);
      if (Number.isFinite(x)) return x;
    }
  };
  const value = (depth: number): unknown => {
    const pick = next();
    if (depth > 3 || pick < 0.35) return [null, true, false][int(3)];
    if (pick < 0.55) return number();
    if (pick < 0.75) return string();
    if (pick < 0.87) return Array.from({ length: int(5) }, () => value(depth + 1));
    return Object.fromEntries(Array.from({ length: int(6) }, () => [string(), value(depth + 1)]));
  };
  return Array.from({ length: count }, () => value(0));
}

describe('an agent in Python, from the published contract alone', () => {
  it('checks the test vectors, and writes 10,000 random values as Baton does (rfc8785)', async () => {
    const values = randomValues(10_000, 0x5eed);
    // Pretty-printed and with keys in no particular order: canonical form must not depend on either.
    const file = path.join(await tempDir(), 'random.json');
    await writeFile(file, JSON.stringify(values.map((v) => ({ json: JSON.stringify(v, null, 1), canonical: rfc8785(v) }))));
    const checked = await runPython(python, [path.join(FIXTURES, 'check_vectors.py'), '--random', file], {}, 120_000);
    expect(checked.code, shown(checked)).toBe(0);
    expect(checked.json).toMatchObject({ ok: true, checked: { keys: 4, sealed: 6, refused: 3, random: 10_000 } });
    console.log(`python-agent: vectors and random values agree in Python: ${JSON.stringify(checked.json.checked)}`);
  });

  it('verifies a package, reports a signed result through completePhase, and the run completes; wrong results are refused and the phase waits', async () => {
    const outputSchema = {
      type: 'object',
      required: ['value', 'files_checked', 'agent'],
      properties: { value: { type: 'integer', minimum: 1 }, files_checked: { type: 'integer', minimum: 2 }, agent: { const: 'python' } },
    };
    const run = await setup.orchestrator.start({
      name: 'python-agent',
      workdir: await tempDir(),
      phases: [
        // 4,000 bytes of output travel by reference ({"$baton_ref": …}), and a file by its sha256: the agent checks both.
        fixturePhase(0, [], { output_bytes: 4000, artifact: 'notes' }),
        fixturePhase('py', [0], {}, { use_separate_agent: true, output_schema: outputSchema }),
        fixturePhase(2, ['py']),
      ],
    });
    const waiting = await until(run, 'the Python phase to wait for an agent', (s) => s.phases.py?.state === 'awaiting_agent');
    const handed = waiting.phases.py!.awaiting!;

    // What the agent gets: the package, with the output schema in it (no need to read the run's input).
    const pkg = HandoffPackageSchema.parse(JSON.parse(await readFile(handed.handoff_path, 'utf8')));
    expect(pkg.output_schema).toEqual(outputSchema);
    expect(pkg.dependency_contexts['0']!.context.blob).toMatchObject({ $baton_ref: { size: 4002 } });

    // Sealed and signed correctly, but claiming attempt 7 of an attempt-1 package.
    const wrongAttempt = await runPython(python, [AGENT, handed.handoff_path, '--tamper', 'attempt'], agentEnv());
    expect(wrongAttempt.code, shown(wrongAttempt)).toBe(3);
    expect(wrongAttempt.json).toEqual({ refused: 'ResultRefused', message: expect.stringMatching(/^the result is for attempt 7 of phase py, but the package handed out .* is attempt 1/) });
    // Signed with the wrong key.
    const badSignature = await runPython(python, [AGENT, handed.handoff_path, '--tamper', 'signature'], agentEnv());
    expect(badSignature.code, shown(badSignature)).toBe(3);
    expect(badSignature.json).toEqual({ refused: 'ResultRefused', message: expect.stringContaining('the signature does not match: the result was changed or signed with another key') });
    expect((await run.status()).phases.py!.state).toBe('awaiting_agent');

    // A package that is not what was sealed: the agent refuses it before doing anything.
    const changed = path.join(await tempDir(), 'changed.json');
    await writeFile(changed, JSON.stringify({ ...pkg, phase_config: { sneaky: true } }));
    const refusedPackage = await runPython(python, [AGENT, changed], agentEnv());
    expect(refusedPackage.code, shown(refusedPackage)).toBe(2);
    expect(refusedPackage.json).toEqual({ error: 'content_hash does not match the package: it was changed after it was sealed' });

    const good = await runPython(python, [AGENT, handed.handoff_path], agentEnv());
    expect(good.code, shown(good)).toBe(0);
    expect(good.json).toMatchObject({ accepted: true, phase: 'completed', result_hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });

    const final = await run.finalStatus();
    expect(final.state).toBe('completed');
    const py = final.phases.py!;
    expect(py.context!.context).toEqual({ value: 2, blob_lengths: { '0': 4000 }, files_checked: 2, agent: 'python' });
    expect(py.context!.artifacts.report).toMatchObject({ path: 'agent-out/report-py-g1.md' });
    expect(py.provenance).toMatchObject({ via: 'agent', agent: 'python-agent', mode: 'online', package_hash: handed.package_hash, result_hash: good.json.result_hash });
    expect(py.provenance!.finished_at).toMatch(/\+00:00$/); // Python's RFC 3339, taken as written
    expect(final.phases['2']!.context!.context).toMatchObject({ value: 3, dependency_keys: ['py'] });
  });
});
