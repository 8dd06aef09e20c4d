/**
 * The bad-input catalogue, part 4: files that are not plain UTF-8 JSON data, and names that would be
 * Markdown. Each case fails on the code before issue 14: a plan with a BOM got "Unexpected token",
 * YAML's `!!set` became `{}` and `!!binary` a Buffer, Latin-1 became U+FFFD, and plan and phase
 * names went into the Web UI's Markdown as Markdown.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRun, readStructuredFile } from '../../src/client/load-plan.js';
import type { PhaseStatus } from '../../src/core/api/status.js';
import { renderDetails } from '../../src/core/workflows/details.js';
import { md, mdCode } from '../../src/core/workflows/markdown.js';
import type { RunOverview } from '../../src/core/workflows/projections.js';

const ok = { id: 0, name: 'Zero', command: ['true'] };

async function file(name: string, content: string | Buffer): Promise<string> {
  const p = path.join(await mkdtemp(path.join(os.tmpdir(), 'baton-bad-')), name);
  await writeFile(p, content);
  return p;
}

describe('plans, configs, packages and results are read as UTF-8 text', () => {
  it('drops a UTF-8 byte-order mark (JSON and YAML), which Windows editors write', async () => {
    const json = await file('plan.json', `\ufeff${JSON.stringify({ name: 'bom', phases: [ok] })}`);
    expect((await loadRun(json)).plan.name).toBe('bom');
    const yaml = await file('plan.yaml', '\ufeffname: bom-yaml\nphases:\n  - {id: 0, name: Zero, command: ["true"]}\n');
    expect((await loadRun(yaml)).plan.name).toBe('bom-yaml');
    const config = await file('config.json', `\ufeff${JSON.stringify({ max_parallel_phases: 2 })}`);
    expect((await loadRun(json, config)).config.max_parallel_phases).toBe(2);
    // Packages and results are read the same way (`baton handoff validate`, `execute-phase`, `submit`).
    const result = await file('result.json', `\ufeff${JSON.stringify({ outcome: 'completed' })}`);
    expect(await readStructuredFile(result, 'the result')).toEqual({ outcome: 'completed' });
  });

  it('refuses Latin-1, naming the byte and where it is, rather than reading U+FFFD', async () => {
    const p = await file('plan.json', Buffer.concat([Buffer.from('{"name": "caf'), Buffer.from([0xe9]), Buffer.from(`", "phases": ${JSON.stringify([ok])}}`)]));
    await expect(loadRun(p)).rejects.toThrow(`${p} is not UTF-8: byte 0xe9 at offset 13 (line 1) does not begin a valid UTF-8 character; save it as UTF-8`);
  });

  it('refuses UTF-16, saying so', async () => {
    const p = await file('plan.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify({ name: 'x', phases: [ok] }), 'utf16le')]));
    await expect(loadRun(p)).rejects.toThrow(`${p} is UTF-16 (it starts with a UTF-16 byte-order mark): save it as UTF-8`);
  });
});

describe('YAML that is not plain JSON data is refused, with the line', () => {
  const cases: Array<[string, string, string]> = [
    ['a !!set (became {})', 'tags: !!set {a, b}', 'line 2: the tag !!set is not JSON data'],
    ['a !!binary (became a Buffer)', 'blob: !!binary aGVsbG8=', 'line 2: the tag !!binary is not JSON data'],
    ['a !!timestamp (became a Date)', 'when: !!timestamp 2001-12-14', 'line 2: the tag !!timestamp is not JSON data'],
    ['an !!omap', 'order: !!omap [a: 1]', 'line 2: the tag !!omap is not JSON data'],
    ['a tag of its own', 'thing: !custom hi', 'line 2: Unresolved tag: !custom'],
    ['.inf (Infinity)', 'limit: .inf', 'line 2: .inf is not a number JSON has'],
    ['.nan', 'ratio: .nan', 'line 2: .nan is not a number JSON has'],
    ['a key that is a list', '? [a, b]\n  : 1', 'line 2: a key that is a map or a list is not JSON data'],
    ['a merge key', 'base: &b {x: 1}\n  other: {<<: *b}', 'a merge key (<<) is not JSON data'],
  ];
  for (const [what, globalContext, message] of cases) {
    it(what, async () => {
      const p = await file('plan.yaml', `name: y\nglobal_context:\n  ${globalContext}\nphases:\n  - {id: 0, name: Zero, command: ["true"]}\n`);
      await expect(loadRun(p)).rejects.toThrow(message.startsWith('line') ? `${p}, ${message.replace('line 2', 'line 3')}` : message);
    });
  }

  it('more than 100 aliases (a "billion laughs" needs only a few more)', async () => {
    const lines = ['name: y', 'global_context:', '  a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 101; i++) lines.push(`  k${i}: *a`);
    const p = await file('plan.yaml', `${lines.join('\n')}\nphases:\n  - {id: 0, name: Zero, command: ["true"]}\n`);
    await expect(loadRun(p)).rejects.toThrow(`${p} uses 101 aliases (*name), over the limit of 100; write the values out`);
  });

  it('still takes what JSON can say, anchors within the limit included', async () => {
    const p = await file('plan.yaml', 'name: y\nglobal_context:\n  base: &b {depth: 3, flag: true, none: null, ratio: 0.5, word: "2001-12-14"}\n  again: *b\nphases:\n  - {id: 0, name: Zero, command: ["true"]}\n');
    const { plan } = await loadRun(p);
    expect(plan.global_context).toEqual({ base: { depth: 3, flag: true, none: null, ratio: 0.5, word: '2001-12-14' }, again: { depth: 3, flag: true, none: null, ratio: 0.5, word: '2001-12-14' } });
  });
});

describe("names and messages go into the Web UI's Markdown as text", () => {
  const hostile = '# Deploy | [docs](https://evil.example) <b>*now*</b> `x` _y_\n\n## Injected\n| a | b |';

  function phase(key: string, extra: Partial<PhaseStatus> = {}): PhaseStatus {
    return { id: key, name: hostile, state: 'failed', attempts: 1, generation: 1, resource_class: 'default', task_queue: 'baton-default', depends_on: [], separate_agent: false, ...extra } as PhaseStatus;
  }

  /** Pipes that split a table row: those not escaped with a backslash. */
  const columns = (row: string) => row.match(/(?<!\\)\|/g)?.length ?? 0;

  it('escapes plan and phase names, errors, reasons, agent messages and paths', () => {
    const phases: Record<string, PhaseStatus> = {
      '0': phase('0', { error: hostile }),
      '1': phase('1', {
        state: 'awaiting_agent',
        awaiting: { package_hash: 'sha256:0', handoff_path: '/h.json', script_path: '/tmp/a`b/execute_phase_1.sh', deadline: null },
        progress: { message: hostile, at: '2026-01-01T00:00:00Z' },
      } as Partial<PhaseStatus>),
      '2': phase('2', { state: 'running', activity: { id: 'phase-2-g1-d1', state: 'paused', attempt: 2, maximum_attempts: 5, paused: { at: null, by: hostile, reason: hostile }, last_failure: hostile } } as Partial<PhaseStatus>),
    };
    const overview: RunOverview = {
      plan: hostile,
      state: 'held',
      paused: false,
      held_reason: `phase 0 (${hostile}) failed: ${hostile}`,
      total: 3,
      counts: {},
      running: ['2'],
      awaiting_agent: ['1'],
      failed: ['0'],
      ready: [],
      reset: { at: '2026-01-01T00:00:00Z', base_run_id: 'r`1', event_id: 5, reason: hostile } as RunOverview['reset'],
    };
    const details = renderDetails(overview, { keys: () => Object.keys(phases), phase: (k) => ({ status: () => phases[k]! }) }, 'run-1', [`retryPhase: refused: ${hostile}`]);

    // No heading, link, HTML, emphasis or code made from what users wrote, and no line of theirs.
    for (const line of details.split('\n')) {
      expect(line).not.toMatch(/^\s*#/);
      expect(line).not.toMatch(/(?<!\\)\[[^\]]*(?<!\\)\]\(/);
      expect(line).not.toMatch(/(?<!\\)<b>/);
    }
    expect(details).not.toContain('## Injected');
    expect(details).toContain(md(hostile));
    // The table keeps its eight columns on every row.
    const rows = details.split('\n').filter((l) => l.startsWith('|'));
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(columns(row)).toBe(9);
    // The notice is a list item of text; the held run's request is a JSON block that copies as is.
    expect(details).toContain(`- ${md(`retryPhase: refused: ${hostile}`)}`);
    expect(details).toContain('```json\n{"phase":"0"}\n```');
    // Commands and paths stay code, with a fence longer than any backticks in them.
    expect(details).toContain('run ``/tmp/a`b/execute_phase_1.sh``.');
    expect(details).toContain('`temporal activity unpause --workflow-id run-1 --activity-id phase-2-g1-d1`');
    expect(details).toContain('continues Temporal run ``r`1`` from its event 5');
  });

  it('md and mdCode', () => {
    expect(md('a_b *c* [d](e) <f> & | # 1. x\ny')).toBe('a\\_b \\*c\\* \\[d\\]\\(e\\) \\<f\\> \\& \\| \\# 1\\. x y');
    expect(mdCode('plain')).toBe('`plain`');
    expect(mdCode('`edge`')).toBe('`` `edge` ``');
    expect(md('x'.repeat(600))).toBe(`${'x'.repeat(500)}…`);
  });
});
