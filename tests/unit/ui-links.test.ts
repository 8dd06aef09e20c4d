/**
 * Links from `baton run`, `baton status` and `baton ui` to the right Temporal Web UI, and to `baton ui`.
 */
import { describe, expect, it } from 'vitest';
import { batonRunLink, runLinkLines, temporalRunLink, temporalUiBase } from '../../src/client/ui-links.js';

const local = { address: 'localhost:7233', namespace: 'default' };

describe("Temporal's Web UI", () => {
  it('is TEMPORAL_UI_URL when set', () => {
    expect(temporalUiBase(local, { TEMPORAL_UI_URL: 'https://temporal.internal/ui/' })).toBe('https://temporal.internal/ui');
  });

  it("is the dev server's: the gRPC host, on the gRPC port plus 1000, or TEMPORAL_UI_PORT", () => {
    expect(temporalUiBase(local, {})).toBe('http://localhost:8233');
    expect(temporalUiBase({ address: '127.0.0.1:7000' }, {})).toBe('http://127.0.0.1:8000');
    expect(temporalUiBase({ address: '[::1]:7233' }, {})).toBe('http://[::1]:8233');
    expect(temporalUiBase({ address: 'temporal.lan' }, {})).toBe('http://temporal.lan:8233');
    expect(temporalUiBase({ address: '127.0.0.1:7000' }, { TEMPORAL_UI_PORT: '9999' })).toBe('http://127.0.0.1:9999');
  });

  it("is Temporal Cloud's for a Cloud address", () => {
    expect(temporalUiBase({ address: 'my-ns.a1b2c.tmprl.cloud:7233' }, {})).toBe('https://cloud.temporal.io');
    expect(temporalUiBase({ address: 'us-east-1.aws.api.temporal.io:7233' }, {})).toBe('https://cloud.temporal.io');
  });

  it('names the run, and a tab of one Temporal run, escaped', () => {
    expect(temporalRunLink({ ...local, namespace: 'a b' }, 'run/1', { env: {} })).toBe('http://localhost:8233/namespaces/a%20b/workflows/run%2F1');
    expect(temporalRunLink(local, 'r', { runId: 'abc', tab: 'pending-activities', env: {} })).toBe('http://localhost:8233/namespaces/default/workflows/r/abc/pending-activities');
  });
});

describe('baton ui', () => {
  it('is linked when BATON_UI_URL says where one runs', () => {
    expect(batonRunLink('r 1', { env: {} })).toBeUndefined();
    expect(batonRunLink('r 1', { env: { BATON_UI_URL: 'http://127.0.0.1:8234/' }, phase: '8' })).toBe('http://127.0.0.1:8234/runs/r%201?phase=8');
    expect(runLinkLines(local, 'r', { BATON_UI_URL: 'http://127.0.0.1:8234' })).toEqual(['Web UI: http://localhost:8233/namespaces/default/workflows/r', 'Baton UI: http://127.0.0.1:8234/runs/r']);
    expect(runLinkLines(local, 'r', {})).toEqual(['Web UI: http://localhost:8233/namespaces/default/workflows/r']);
  });
});
