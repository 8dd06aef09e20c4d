/**
 * `baton mcp`'s server: the agent inbox as MCP tools (src/mcp/tools.ts), over stdio, for LLM coding
 * agents. stdout carries the protocol, so anything else the server says goes to stderr. The
 * Temporal client connects on the first tool call (a server that cannot reach Temporal still
 * starts, and each tool says why it cannot answer).
 */
import { createRequire } from 'node:module';
import type { Client } from '@temporalio/client';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { connectClient } from '../client/connection.js';
import * as tools from './tools.js';

const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** A tool's answer: the JSON as text (what every client shows the model) and as structured content. */
function answer(value: Record<string, unknown>) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

export function createBatonMcpServer(ctx: tools.ToolContext): McpServer {
  const server = new McpServer(
    { name: 'baton', version },
    {
      instructions:
        'Baton runs multi-phase jobs; some phases wait for an external agent. To take one on: list_awaiting_phases, claim_phase (a lease), get_handoff (the work: instructions, inputs, output_schema), report_progress with the lease_id (renews the lease), then submit_result (refused results come back as errors saying what to fix; the phase keeps waiting), or release_phase to give it back.',
    },
  );
  server.registerTool(
    'list_awaiting_phases',
    {
      title: 'List phases awaiting an agent',
      description: 'Every phase awaiting an external agent in the live runs, oldest first: run, plan, phase, name, resource_class, generation, attempt, since, deadline, package_hash, handoff_path, agent_labels (the labels a claimant needs), claim (who holds it until when, or null).',
      inputSchema: tools.listShape,
      annotations: { readOnlyHint: true },
    },
    async (args) => answer(await tools.listAwaiting(ctx, args)),
  );
  server.registerTool(
    'claim_phase',
    {
      title: 'Claim a phase',
      description: "Claim a phase awaiting an agent (the one named, or the oldest this agent may take) for a lease: exclusive while it lasts; renewed by report_progress with the lease_id or by submit_result; when it ends the phase returns to the inbox. Returns the claim: run, phase, agent, lease_id, expires_at, lease_s, generation, attempt, package_hash, handoff_path. A phase another agent holds is refused with who holds it.",
      inputSchema: tools.claimShape,
    },
    async (args) => answer(await tools.claim(ctx, args)),
  );
  server.registerTool(
    'get_handoff',
    {
      title: "Get a phase's handoff package",
      description: "The work of a phase awaiting an agent: its instructions (command, env, timeout, workdir), output_schema (the JSON Schema the result's context must match, or null), the inputs (dependency_contexts and previous_phase_context, with values stored by reference read in where the run's files can be read; unresolved_refs says which could not), and the rest of the package (phase_config, global_context, shared_artifacts, state_summary). The package is checked first (signature, dependencies' files).",
      inputSchema: tools.handoffShape,
      annotations: { readOnlyHint: true },
    },
    async (args) => answer(await tools.getHandoff(ctx, args)),
  );
  server.registerTool(
    'report_progress',
    {
      title: 'Report progress',
      description: "Tell the run what the agent is doing (shown in its status and UI); with the claim's lease_id, renews the lease too. Returns {reported, lease} (lease: the renewed expiry, or null).",
      inputSchema: tools.progressShape,
    },
    async (args) => answer(await tools.reportProgress(ctx, args)),
  );
  server.registerTool(
    'submit_result',
    {
      title: 'Submit the result',
      description:
        "Report a claimed phase's result: completed with its context (matching output_schema) and artifacts (paths relative to the run's workdir), or failed with an error. The server seals it with its key in the claim holder's name; the run checks it. Accepted: {accepted: true, phase} and the run goes on. Refused: a tool error saying what to fix; the phase keeps waiting and the claim holds, so submit again.",
      inputSchema: tools.submitShape,
    },
    async (args) => answer(await tools.submitResult(ctx, args)),
  );
  server.registerTool(
    'release_phase',
    {
      title: 'Release a claimed phase',
      description: 'Give a claimed phase back to the inbox, for another agent. Returns {phase, released}.',
      inputSchema: tools.releaseShape,
    },
    async (args) => answer(await tools.release(ctx, args)),
  );
  return server;
}

/** A context whose client connects once, on first use (a failed connection is tried again on the next call). */
export function lazyClient(connect: () => Promise<Client> = connectClient): tools.ToolContext {
  let pending: Promise<Client> | undefined;
  return {
    client() {
      pending ??= connect().catch((err: unknown) => {
        pending = undefined;
        throw err;
      });
      return pending;
    },
  };
}

/** Serves the tools over stdio until the client closes the stream. */
export async function serveStdio(ctx: tools.ToolContext = lazyClient()): Promise<void> {
  const server = createBatonMcpServer(ctx);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    process.stdin.once('end', resolve);
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
