/**
 * The Web UI address of a run. `TEMPORAL_UI_URL` wins; otherwise a dev server's UI is
 * assumed on port 8233 of the gRPC host (what `temporal server start-dev` does).
 */
import type { ConnectSettings } from '../client/connection.js';

export function uiBase(settings: ConnectSettings): string {
  if (process.env.TEMPORAL_UI_URL) return process.env.TEMPORAL_UI_URL.replace(/\/$/, '');
  const host = settings.address.replace(/:\d+$/, '');
  return `http://${host}:${process.env.TEMPORAL_UI_PORT ?? '8233'}`;
}

export function runLink(settings: ConnectSettings, runId: string): string {
  return `${uiBase(settings)}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(runId)}`;
}
