/**
 * `baton mcp`: an MCP server over stdio, so LLM coding agents can take on phases awaiting an agent
 * (src/mcp/). It holds the handoff key (BATON_HANDOFF_KEY / BATON_HANDOFF_KEY_FILE, or an Ed25519
 * key) and seals agents' results with it.
 */
import type { Command } from 'commander';
import { serveStdio } from '../../mcp/server.js';
import { signingKeyFromEnv } from '../../runner/signing.js';
import { action } from '../errors.js';

export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('serve the agent inbox as an MCP server on stdio (tools: list_awaiting_phases, claim_phase, get_handoff, report_progress, submit_result, release_phase), for LLM coding agents')
    .action(
      action(async () => {
        // stdout is the protocol's: anything printed there by mistake would corrupt it.
        console.log = console.error;
        // A bad key file is found now, not at the first result.
        const key = signingKeyFromEnv();
        console.error(`baton mcp: serving on stdio; results are ${key ? `sealed with key ${key.keyId}` : 'unsigned (no BATON_HANDOFF_KEY or BATON_HANDOFF_KEY_FILE)'}`);
        await serveStdio();
        process.exit(0);
      }),
    );
}
