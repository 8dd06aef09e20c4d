import { describe, expect, it } from 'vitest';
import { findSecrets } from '../../src/core/handoff/secrets.js';
import { formatPath } from '../../src/core/plan/problems.js';

describe('formatPath, the one way a place in a document is printed', () => {
  it('prints identifiers as .name, array indexes as [n], other keys bracket-quoted', () => {
    expect(formatPath(['phases', 2, 'command', 0])).toBe('phases[2].command[0]');
    expect(formatPath(['dependency_contexts', '1', 'artifacts', 'report'])).toBe('dependency_contexts["1"].artifacts.report');
    expect(formatPath(['shared_artifacts', 'my-file.csv'])).toBe('shared_artifacts["my-file.csv"]');
    expect(formatPath(['context', 'big', '$baton_ref', 'path'])).toBe('context.big.$baton_ref.path');
    expect(formatPath(['3', 'x'])).toBe('["3"].x');
    expect(formatPath(['say "hi"'])).toBe('["say \\"hi\\""]');
  });

  it('puts a root in front, and names the top level when there is no path', () => {
    expect(formatPath(['aws', 'key'], 'global_context')).toBe('global_context.aws.key');
    expect(formatPath(['7'], 'global_context')).toBe('global_context["7"]');
    expect(formatPath([])).toBe('(top level)');
  });

  it('is what the secret scan prints, so a package problem reads the same from every check', () => {
    const found = findSecrets({ dependency_contexts: { '1': { context: { 'api-key': 'hunter2hunter2' } } } });
    expect(found.map((f) => f.path)).toEqual([formatPath(['dependency_contexts', '1', 'context', 'api-key'])]);
    expect(found[0]!.path).toBe('dependency_contexts["1"].context["api-key"]');
  });
});
