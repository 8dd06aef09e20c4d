/**
 * `baton mcp`'s wiring, in memory (no Temporal): the six tools with their input schemas as MCP
 * clients see them, an argument out of range refused by the schema, and a tool that cannot reach
 * Temporal answering a tool error that says so (the server keeps serving).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { describe, expect, it } from 'vitest';
import { createBatonMcpServer } from '../../src/mcp/server.js';

async function connected(connect: () => Promise<never>): Promise<Client> {
  const server = createBatonMcpServer({ client: connect });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 'unit', version: '1.0.0' });
  await client.connect(b);
  return client;
}

const unreachable = () => Promise.reject(new Error('cannot reach Temporal at localhost:1 (connection refused)'));

describe('baton mcp server', () => {
  it('lists the six tools, with their input schemas', async () => {
    const client = await connected(unreachable);
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['claim_phase', 'get_handoff', 'list_awaiting_phases', 'release_phase', 'report_progress', 'submit_result']);
    expect(byName['submit_result']!.inputSchema.required).toEqual(expect.arrayContaining(['run', 'phase', 'lease_id', 'outcome']));
    expect(byName['claim_phase']!.inputSchema.required ?? []).toEqual([]);
    const props = byName['claim_phase']!.inputSchema.properties as Record<string, { maximum?: number }>;
    expect(props['lease_s']!.maximum).toBe(86_400);
    expect(byName['list_awaiting_phases']!.annotations?.readOnlyHint).toBe(true);
    expect(client.getInstructions()).toContain('claim_phase');
    await client.close();
  });

  it('a bad argument and an unreachable Temporal are tool errors, and the server goes on', async () => {
    const client = await connected(unreachable);
    const bad = await client.callTool({ name: 'claim_phase', arguments: { lease_s: 0 } });
    expect(bad.isError).toBe(true);
    expect(JSON.stringify(bad.content)).toContain('lease_s');
    const down = await client.callTool({ name: 'list_awaiting_phases', arguments: {} });
    expect(down.isError).toBe(true);
    expect((down.content as Array<{ text: string }>)[0]!.text).toContain('cannot reach Temporal at localhost:1');
    const noRun = await client.callTool({ name: 'claim_phase', arguments: { phase: 3 } });
    expect(noRun.isError).toBe(true);
    expect((noRun.content as Array<{ text: string }>)[0]!.text).toContain('claim_phase: a phase needs its run');
    await client.close();
  });
});
