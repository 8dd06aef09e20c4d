/**
 * The bad-input catalogue, part 3: what a phase can leave behind, in a live run. Each case fails
 * on the code before issue 14 and passes after:
 *
 * - an output of 30,000 small keys is stored as one referenced value: the phase completes, its
 *   dependant reads every key, history and the context store stay small;
 * - an output whose report is too big for Temporal (a 3 MB artifact name) fails its phase before
 *   anything is committed;
 * - Latin-1 in BATON_OUTPUT is refused with the byte offset, not turned into U+FFFD; a UTF-8 BOM
 *   is dropped;
 * - 40 MB of stdout and of stderr leave two logs of about 1 MiB each (BATON_LOG_MAX_BYTES here),
 *   with a marker saying what was dropped, and the error still quotes the end of stderr.
 *
 * Then the run still answers `status` at once, is aborted (it holds on the failed phases), and
 * has lost nothing: every completed phase's committed output is its status's.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDir, tempDir, until, workerForFile } from '../support/baton.js';

const LOG_CAP = 1024 * 1024;
const setup = workerForFile([], { BATON_LOG_MAX_BYTES: String(LOG_CAP) });

const node = (script: string) => ['node', '-e', script];

/** Every file under a directory, recursively (none when it is not there). */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('what a phase leaves behind, in a live run', () => {
  it('many keys, an oversized report, bad bytes and floods of output: bounded, and the run carries on', async () => {
    const workdir = await tempDir();
    const run = await setup.orchestrator.start({
      name: 'leftovers',
      workdir,
      phases: [
        {
          id: 'many',
          name: 'Thirty thousand keys',
          command: node(`const c = {}; for (let i = 0; i < 30000; i++) c['k' + i] = i; require('fs').writeFileSync(process.env.BATON_OUTPUT, JSON.stringify({ context: c }))`),
        },
        {
          id: 'reader',
          name: 'Reads them all',
          depends_on: ['many'],
          command: node(
            `const h = JSON.parse(require('fs').readFileSync(process.env.BATON_HANDOFF, 'utf8')); const c = h.dependency_contexts.many.context;` +
              ` let sum = 0; for (const v of Object.values(c)) sum += v;` +
              ` require('fs').writeFileSync(process.env.BATON_OUTPUT, JSON.stringify({ context: { keys: Object.keys(c).length, sum, k29999: c.k29999 } }))`,
          ),
        },
        {
          id: 'bigname',
          name: 'A 3 MB artifact name',
          command: node(`const fs = require('fs'); fs.writeFileSync(process.env.BATON_WORKDIR + '/small.txt', 'x'); fs.writeFileSync(process.env.BATON_OUTPUT, JSON.stringify({ context: { fine: 1 }, artifacts: { ['n'.repeat(3e6)]: 'small.txt' } }))`),
        },
        {
          id: 'latin1',
          name: 'Latin-1 output',
          command: node(`require('fs').writeFileSync(process.env.BATON_OUTPUT, Buffer.concat([Buffer.from('{"context": {"word": "caf'), Buffer.from([0xe9]), Buffer.from('"}}')]))`),
        },
        {
          id: 'bom',
          name: 'Output with a BOM',
          command: node(`require('fs').writeFileSync(process.env.BATON_OUTPUT, '\\ufeff' + JSON.stringify({ context: { word: 'café' } }))`),
        },
        {
          id: 'noisy',
          name: 'Floods its logs',
          command: node(
            `const fs = require('fs'); const line = 'y'.repeat(1023) + '\\n';` +
              ` for (let i = 0; i < 40 * 1024; i++) { fs.writeSync(1, line); fs.writeSync(2, line); }` +
              ` fs.writeSync(2, 'the real error, at the very end\\n'); process.exit(1)`,
          ),
        },
      ],
    });
    const held = await until(
      run,
      'the bad phases to fail and the good ones to complete',
      (s) => ['bigname', 'latin1', 'noisy'].every((k) => s.phases[k]!.state === 'failed') && ['reader', 'bom'].every((k) => s.phases[k]!.state === 'completed'),
      90_000,
    );
    const files = runDir(workdir, run.runId);
    const committed = async (key: string) => JSON.parse(await readFile(path.join(files, 'outputs', `phase_${key}.json`), 'utf8')) as { context: Record<string, unknown> };

    // 30,000 keys: one value by reference, a few files, and the dependant sees every key.
    const many = held.phases.many!;
    expect(many.state).toBe('completed');
    expect(JSON.stringify(many.context!.context).length).toBeLessThan(1024 + 300); // the inline budget, and one reference
    expect(many.context!.context.$baton_keys).toMatchObject({ $baton_ref: { sha256: expect.any(String) } });
    expect(held.phases.reader!.context!.context).toEqual({ keys: 30000, sum: (29999 * 30000) / 2, k29999: 29999 });
    expect((await filesUnder(path.join(workdir, 'context-store'))).length).toBeLessThanOrEqual(2);
    expect((await stat(path.join(files, 'outputs', 'phase_many.json'))).size).toBeLessThan(16 * 1024);
    const results = (await run.workflow.fetchHistory()).events!.flatMap((e) => e.activityTaskCompletedEventAttributes?.result?.payloads ?? []);
    const largest = Math.max(...results.map((p) => p.data?.length ?? 0));
    console.log(`30,000 keys: largest activity result in history ${largest} bytes; context store files ${(await filesUnder(path.join(workdir, 'context-store'))).length}`);
    expect(largest).toBeLessThan(8 * 1024);

    // A report too big for Temporal: refused before anything is committed, and not retried.
    expect(held.phases.bigname!.error).toBe('phase bigname (A 3 MB artifact name) reported an artifact name of 3,000,000 bytes, over the limit of 1,024 bytes');
    expect(held.phases.bigname!.attempts).toBe(1);
    expect(existsSync(path.join(files, 'outputs', 'phase_bigname.json'))).toBe(false);

    // Bad bytes: refused with where they are; a BOM is only dropped.
    expect(held.phases.latin1!.error).toMatch(/^phase latin1 \(Latin-1 output\) wrote .*, which is not UTF-8: byte 0xe9 at offset 25 \(line 1\) does not begin a valid UTF-8 character; write the output as UTF-8/);
    expect(existsSync(path.join(files, 'outputs', 'phase_latin1.json'))).toBe(false);
    expect(held.phases.bom!.context!.context).toMatchObject({ word: 'café' });

    // Floods of output: each log kept to its cap, what was dropped said, the error from the very end.
    expect(held.phases.noisy!.error).toContain('the real error, at the very end');
    const logs = (await readdir(path.join(files, 'logs'))).filter((f) => f.startsWith('phase_noisy.'));
    expect(logs.sort()).toEqual(['phase_noisy.g1.a1.stderr.log', 'phase_noisy.g1.a1.stdout.log']);
    for (const log of logs) {
      const file = path.join(files, 'logs', log);
      expect((await stat(file)).size).toBeLessThan(LOG_CAP + 1024);
      const text = await readFile(file, 'utf8');
      expect(text).toMatch(/\[baton: \d[\d,]* bytes dropped here: this log keeps its first 512 KiB and its last 512 KiB \(BATON_LOG_MAX_BYTES is 1 MiB\)\]/);
      expect(text.startsWith('y'.repeat(1023))).toBe(true);
    }

    // The run answers at once, can be aborted, and has lost nothing.
    const asked = Date.now();
    const now = await run.status();
    expect(Date.now() - asked).toBeLessThan(1000);
    expect(now.state).toBe('held');
    await run.abort();
    const after = await until(run, 'the abort', (s) => s.state === 'cancelled');
    for (const key of ['many', 'reader', 'bom']) {
      expect(after.phases[key]!.state).toBe('completed');
      expect((await committed(key)).context).toEqual(held.phases[key]!.context!.context);
    }
  });
});
