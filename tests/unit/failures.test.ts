/**
 * The failure catalogue is the one list of failure types: every type raised anywhere in the
 * sources is in it, and the README's table lists each with its retryability.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAILURES, FAILURE_TYPES, failure, isFailureType } from '../../src/core/api/failures.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(p)));
    else if (entry.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('the failure catalogue', () => {
  it('makes failures whose retryability is the catalogue\'s', () => {
    expect(failure('PhaseCommandFailed', 'x').nonRetryable).toBe(false);
    expect(failure('InvalidPlan', 'x', ['a problem']).nonRetryable).toBe(true);
    expect(failure('InvalidPlan', 'x', ['a problem']).details).toEqual([['a problem']]);
    expect(isFailureType('ResultRefused')).toBe(true);
    expect(isFailureType('toString')).toBe(false);
  });

  it('holds every failure type the sources raise, and none is raised as a free string', async () => {
    const raised = new Set<string>();
    for (const file of await sources(path.join(ROOT, 'src'))) {
      const text = await readFile(file, 'utf8');
      if (file.endsWith(path.join('api', 'failures.ts'))) continue;
      expect(text, `${path.relative(ROOT, file)} creates an ApplicationFailure by hand; use failure() from core/api/failures.ts`).not.toMatch(/ApplicationFailure\.(create|nonRetryable|retryable)\(/);
      for (const m of text.matchAll(/(?:failure|PhaseExecutionError)\(\s*'([A-Za-z]+)'/g)) raised.add(m[1]!);
    }
    expect(raised.size).toBeGreaterThan(10);
    expect([...raised].filter((t) => !isFailureType(t))).toEqual([]);
  });

  it('is listed in the README, each type with whether retrying helps', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    for (const type of FAILURE_TYPES) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${type}\` |`));
      expect(row, `README row for ${type}`).toBeDefined();
      expect(row).toContain(FAILURES[type].retryable ? '| yes |' : '| no |');
    }
  });
});
