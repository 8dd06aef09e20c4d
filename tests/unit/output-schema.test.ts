/**
 * output_schema: compiled and checked with Ajv (JSON Schema draft 2020-12) on worker threads,
 * with a time and a size limit (src/runner/output-schema.ts).
 */
import { describe, expect, it } from 'vitest';
import { checkOutputSchema, outputSchemaProblem, outputSchemaProblems, schemaCheckLimits, type SchemaCheckLimits } from '../../src/runner/output-schema.js';

const ROOT = ['output', 'context'];
const LIMITS: SchemaCheckLimits = { timeoutMs: 2000, maxBytes: 1024 * 1024 };

async function problems(schema: unknown, value: unknown, limits = LIMITS): Promise<string[]> {
  const verdict = await checkOutputSchema(schema, value, ROOT, limits);
  if (verdict.ok) return [];
  if ('unusable' in verdict) throw new Error(`unusable schema: ${verdict.unusable}`);
  return verdict.problems;
}

/** Runs `work` while measuring how late a 10 ms timer fires on this thread: the event loop's worst lag. */
async function withLoopLag<T>(work: () => Promise<T>): Promise<{ result: T; maxLagMs: number; elapsedMs: number }> {
  let maxLagMs = 0;
  let expected = performance.now() + 10;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - expected);
    expected = now + 10;
  }, 10);
  const started = performance.now();
  try {
    const result = await work();
    return { result, maxLagMs, elapsedMs: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}

describe('compiling an output_schema', () => {
  it('takes valid draft 2020-12 schemas, formats included', async () => {
    for (const schema of [
      { type: 'object' },
      { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { at: { type: 'string', format: 'date-time' } } },
      { type: 'object', $defs: { path: { type: 'string', minLength: 1 } }, properties: { report: { $ref: '#/$defs/path' } }, title: 'Report', description: 'what the agent found' },
      { type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'number' } },
    ]) {
      expect(await outputSchemaProblem(schema, LIMITS), JSON.stringify(schema)).toBeUndefined();
    }
  });

  it('refuses one that is not a valid JSON Schema, in Ajv\'s words, with the place in the schema', async () => {
    expect(await outputSchemaProblem({ type: 'strnig' }, LIMITS)).toBe('type: must be equal to one of the allowed values ("array", "boolean", "integer", "null", "number", "object", "string")');
    expect(await outputSchemaProblem({ type: 'object', properties: { n: { type: 'integer', minimum: 'zero' } } }, LIMITS)).toBe('properties.n.minimum: must be number');
    expect(await outputSchemaProblem({ type: 'object', required: 'report_path' }, LIMITS)).toBe('required: must be array');
    expect(await outputSchemaProblem({ items: [{ type: 'string' }] }, LIMITS)).toBe('items: must be object,boolean');
  });

  it('refuses what Ajv would otherwise ignore or cannot compile: typos, unknown formats, bad patterns, missing references, other drafts', async () => {
    expect(await outputSchemaProblem({ type: 'object', requird: ['a'] }, LIMITS)).toBe('strict mode: unknown keyword: "requird"');
    expect(await outputSchemaProblem({ type: 'string', format: 'postcode' }, LIMITS)).toBe('unknown format "postcode" at "#"');
    expect(await outputSchemaProblem({ type: 'string', pattern: '((' }, LIMITS)).toMatch(/^Invalid regular expression: \/\(\(\/u: Unterminated group/);
    expect(await outputSchemaProblem({ $ref: '#/$defs/missing' }, LIMITS)).toMatch(/can't resolve reference #\/\$defs\/missing/);
    expect(await outputSchemaProblem({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' }, LIMITS)).toBe(
      '$schema: is "http://json-schema.org/draft-07/schema#": Baton checks with draft 2020-12; remove "$schema", or make it "https://json-schema.org/draft/2020-12/schema"',
    );
  });

  it('answers for several schemas at once, by key, only those with a problem', async () => {
    expect(await outputSchemaProblems({ 0: { type: 'object' }, 3: { type: 'strnig' }, 5: { not: { required: ['x'] } } }, LIMITS)).toEqual({
      3: expect.stringMatching(/^type: must be equal to one of the allowed values/),
    });
  });
});

describe('checking a value against an output_schema, per the spec', () => {
  it('required: {} does not have a required property', async () => {
    const schema = { type: 'object', required: ['report_path'] };
    expect(await problems(schema, {})).toEqual(["output.context: must have required property 'report_path'"]);
    expect(await problems(schema, { report_path: 'out/report.md' })).toEqual([]);
  });

  it('not: refuses what matches the inner schema and accepts the rest', async () => {
    const schema = { type: 'object', not: { required: ['password'] } };
    expect(await problems(schema, { user: 'a' })).toEqual([]);
    expect(await problems(schema, { password: 'x' })).toEqual(['output.context: must NOT be valid']);
  });

  it('const: an object matches an equal object, whatever its key order', async () => {
    const schema = { type: 'object', properties: { target: { const: { env: 'prod', region: 'eu' } } } };
    expect(await problems(schema, { target: { region: 'eu', env: 'prod' } })).toEqual([]);
    expect(await problems(schema, { target: { env: 'dev', region: 'eu' } })).toEqual(['output.context.target: must be equal to constant']);
  });

  it('if/then: the condition decides which rule applies', async () => {
    const schema = { type: 'object', if: { properties: { kind: { const: 'file' } }, required: ['kind'] }, then: { required: ['path'] }, else: { required: ['url'] } };
    expect(await problems(schema, { kind: 'file', path: 'a.txt' })).toEqual([]);
    expect(await problems(schema, { kind: 'link', url: 'https://example.com' })).toEqual([]);
    expect(await problems(schema, { kind: 'file' })).toEqual(["output.context: must have required property 'path'", 'output.context: must match "then" schema']);
  });

  it('dependentRequired: a property that needs another', async () => {
    const schema = { type: 'object', dependentRequired: { report_path: ['report_sha256'] } };
    expect(await problems(schema, {})).toEqual([]);
    expect(await problems(schema, { report_path: 'r', report_sha256: 'h' })).toEqual([]);
    expect(await problems(schema, { report_path: 'r' })).toEqual(['output.context: must have property report_sha256 when property report_path is present']);
  });

  it('multipleOf: decimal steps as written, not as floating point has them', async () => {
    const schema = { type: 'object', properties: { price: { type: 'number', multipleOf: 0.01 }, count: { multipleOf: 5 } } };
    expect(await problems(schema, { price: 0.07, count: 15 })).toEqual([]);
    expect(await problems(schema, { price: 19.99 })).toEqual([]);
    expect(await problems(schema, { price: 0.075, count: 7 })).toEqual(['output.context.price: must be multiple of 0.01', 'output.context.count: must be multiple of 5']);
  });

  it('names every place as the README does, lists and odd keys included, and the key not allowed', async () => {
    const schema = {
      type: 'object',
      properties: { files: { type: 'array', items: { type: 'object', properties: { 'size-bytes': { type: 'integer' } } } }, '0': { type: 'string' } },
      additionalProperties: false,
    };
    expect(await problems(schema, { files: [{ 'size-bytes': 1 }, { 'size-bytes': 'big' }], 0: 7, extra: true })).toEqual([
      'output.context: must NOT have additional properties: "extra"',
      'output.context["0"]: must be string',
      'output.context.files[1]["size-bytes"]: must be integer',
    ]);
  });

  it('names the first ten problems and counts the rest', async () => {
    const found = await problems({ type: 'array', items: { type: 'string' } }, Array.from({ length: 25 }, (_, i) => i), LIMITS);
    expect(found).toHaveLength(11);
    expect(found[0]).toBe('output.context[0]: must be string');
    expect(found[10]).toBe('and 15 more');
  });

  it('formats: date-time, email and uri are checked', async () => {
    const schema = { type: 'object', properties: { at: { format: 'date-time' }, mail: { format: 'email' }, link: { format: 'uri' } } };
    expect(await problems(schema, { at: '2026-11-30T12:00:00Z', mail: 'a@example.com', link: 'https://example.com/x' })).toEqual([]);
    expect(await problems(schema, { at: 'yesterday', mail: 'nobody', link: 'not a uri' })).toEqual([
      'output.context.at: must match format "date-time"',
      'output.context.mail: must match format "email"',
      'output.context.link: must match format "uri"',
    ]);
  });

  it('says the schema cannot be used rather than refusing the value for it', async () => {
    expect(await checkOutputSchema({ type: 'strnig' }, {}, ROOT, LIMITS)).toEqual({ ok: false, unusable: expect.stringMatching(/^type: must be equal to one of the allowed values/) });
  });
});

describe('limits', () => {
  const redos = { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } };
  const evil = { name: `${'a'.repeat(34)}!` };

  it('stops a pattern that backtracks at the time limit, while this thread stays responsive', async () => {
    const limits = { ...LIMITS, timeoutMs: 1000 };
    const { result, maxLagMs, elapsedMs } = await withLoopLag(() => checkOutputSchema(redos, evil, ROOT, limits));
    expect(result).toEqual({ ok: false, problems: ['output.context: the output_schema check took longer than 1 s (a pattern that backtracks?)'] });
    expect(elapsedMs).toBeGreaterThanOrEqual(990);
    expect(elapsedMs).toBeLessThan(1000 + 1500);
    // The match runs on a worker thread: this one's timers fire on time meanwhile (about a minute on the caller's thread, before).
    expect(maxLagMs).toBeLessThan(250);
    // The stopped thread is replaced: the next check answers, and a name that matches passes.
    expect(await checkOutputSchema(redos, { name: 'aaaa' }, ROOT, limits)).toEqual({ ok: true });
  }, 20_000);

  it('keeps checking other results while two threads are stuck, each stuck one refused in bounded time', async () => {
    const limits = { ...LIMITS, timeoutMs: 800 };
    const started = performance.now();
    const stuck = [checkOutputSchema(redos, evil, ROOT, limits), checkOutputSchema(redos, evil, ROOT, limits)];
    const good = await checkOutputSchema({ type: 'object', required: ['n'] }, { n: 1 }, ROOT, limits);
    expect(good).toEqual({ ok: true });
    // It waited at most for one stuck check's time limit (two threads in the pool).
    expect(performance.now() - started).toBeLessThan(800 + 1500);
    for (const verdict of await Promise.all(stuck)) expect(verdict).toMatchObject({ ok: false, problems: [expect.stringContaining('took longer than 0.8 s')] });
  }, 20_000);

  it('refuses a value over the size limit without checking it', async () => {
    const verdict = await checkOutputSchema(redos, { name: 'a'.repeat(2000) }, ROOT, { timeoutMs: 2000, maxBytes: 1000 });
    expect(verdict).toEqual({ ok: false, problems: ['output.context: is 2,011 bytes as JSON, over the 1,000 bytes the output_schema check takes (BATON_SCHEMA_CHECK_MAX_BYTES on the orchestrator worker)'] });
  });

  it('reads its limits from the environment, and refuses nonsense there', () => {
    expect(schemaCheckLimits({})).toEqual({ timeoutMs: 2000, maxBytes: 16 * 1024 * 1024 });
    expect(schemaCheckLimits({ BATON_SCHEMA_CHECK_TIMEOUT_S: '0.5', BATON_SCHEMA_CHECK_MAX_BYTES: '4096' })).toEqual({ timeoutMs: 500, maxBytes: 4096 });
    expect(() => schemaCheckLimits({ BATON_SCHEMA_CHECK_TIMEOUT_S: 'two' })).toThrow('BATON_SCHEMA_CHECK_TIMEOUT_S must be a number > 0, got "two"');
    expect(() => schemaCheckLimits({ BATON_SCHEMA_CHECK_MAX_BYTES: '-1' })).toThrow('BATON_SCHEMA_CHECK_MAX_BYTES must be a number > 0, got "-1"');
  });

  it('refuses a value nested too deeply to check, and carries on', async () => {
    const nested = (levels: number): unknown => {
      let deep: unknown = 'x';
      for (let i = 0; i < levels; i++) deep = [deep];
      return deep;
    };
    const schema = { $defs: { node: { anyOf: [{ type: 'string' }, { type: 'array', items: { $ref: '#/$defs/node' } }] } }, $ref: '#/$defs/node' };
    expect(await checkOutputSchema(schema, nested(3_000), ROOT, LIMITS)).toEqual({ ok: true });
    expect(await checkOutputSchema(schema, nested(100_000), ROOT, LIMITS)).toEqual({
      ok: false,
      problems: ['output.context: cannot be checked against the output_schema (Maximum call stack size exceeded: nested too deeply?)'],
    });
    expect(await checkOutputSchema({ type: 'array' }, [1], ROOT, LIMITS)).toEqual({ ok: true });
  }, 20_000);
});
