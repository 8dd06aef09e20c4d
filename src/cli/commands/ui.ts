/**
 * `baton ui`: Baton's own web page for runs. The runs (held and awaiting-agent ones first); for a run its
 * dependency graph, live, and for a phase its package, log, artifacts, error, provenance and Temporal's
 * view of it, with Retry, Skip, Pause, Resume and Abort as buttons, and links into Temporal's Web UI.
 */
import type { Command } from 'commander';
import { connectClient, connectSettings } from '../../client/connection.js';
import { startUiServer, type UiServer } from '../../web/server.js';
import { TemporalRunsSource } from '../../web/source.js';
import { action, UsageError } from '../errors.js';

export const DEFAULT_UI_PORT = 8234;

interface UiOptions {
  port: string;
  host: string;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description("serve Baton's page for runs: each run's dependency graph, live, its phases' packages, logs and errors, and Retry, Skip, Pause, Resume and Abort")
    .option('--port <port>', 'port to listen on; 0 takes a free one (printed)', String(DEFAULT_UI_PORT))
    .option('--host <address>', 'address to listen on; anything but loopback lets whoever reaches it see and operate your runs (there is no login)', '127.0.0.1')
    .action(
      action(async (opts: UiOptions) => {
        const port = Number(opts.port);
        if (!/^\d+$/.test(opts.port) || port > 65535) throw new UsageError(`--port must be a port number (0 takes a free one), got "${opts.port}"`);
        const settings = connectSettings();
        const client = await connectClient(settings);
        let ui: UiServer;
        try {
          ui = await startUiServer({ source: new TemporalRunsSource(client), connection: { address: settings.address, namespace: settings.namespace }, host: opts.host, port });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EADDRINUSE') throw new UsageError(`port ${port} on ${opts.host} is in use; pick another with --port, or --port 0 for a free one`);
          if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on ${opts.host}: no such address on this machine`);
          throw err;
        }
        console.log(`baton ui serving ${ui.url} (Temporal at ${settings.address}, namespace ${settings.namespace})`);
        console.log(`export BATON_UI_URL=${ui.url}   # then baton run and baton status link to it`);
        if (!isLoopback(opts.host)) console.error(`baton ui: listening on ${opts.host}: whoever can reach it can see and operate your runs (it has no login)`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await ui.close();
        await client.connection.close();
      }),
    );
}
