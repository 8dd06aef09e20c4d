/**
 * Where a run is shown: in Temporal's Web UI, and on `baton ui`'s page.
 *
 * Temporal's Web UI: `TEMPORAL_UI_URL` when it is set. Otherwise, for Temporal Cloud (an address under
 * `tmprl.cloud` or `api.temporal.io`), Cloud's UI. Otherwise the dev server's rule: the UI listens on the
 * gRPC host, on the gRPC port plus 1000 (7233 gives 8233; `temporal server start-dev --ui-port` moves it,
 * and `TEMPORAL_UI_PORT`, which ./temporal-dev.sh reads too, says where). Temporal's connection profiles
 * (`temporal.toml`, `@temporalio/envconfig`) carry no UI address, so there is none to take from them.
 *
 * Baton's own page: `BATON_UI_URL`, the address `baton ui` prints when it starts.
 */
import type { ConnectSettings } from './connection.js';

type Env = Record<string, string | undefined>;

export const CLOUD_UI = 'https://cloud.temporal.io';
const DEV_UI_PORT_OFFSET = 1000;

/** `host:port`, `[v6]:port` or a bare host, split; the port is undefined when there is none. */
function splitAddress(address: string): { host: string; port: number | undefined } {
  const match = /^(\[[^\]]+\]|[^:/]+)(?::(\d+))?$/.exec(address.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, ''));
  if (!match) return { host: address, port: undefined };
  return { host: match[1]!, port: match[2] === undefined ? undefined : Number(match[2]) };
}

/** The base address of Temporal's Web UI for this connection, without a trailing slash. */
export function temporalUiBase(settings: Pick<ConnectSettings, 'address'>, env: Env = process.env): string {
  if (env.TEMPORAL_UI_URL) return env.TEMPORAL_UI_URL.replace(/\/+$/, '');
  const { host, port } = splitAddress(settings.address);
  if (/(^|\.)tmprl\.cloud$/i.test(host) || /(^|\.)api\.temporal\.io$/i.test(host)) return CLOUD_UI;
  const uiPort = env.TEMPORAL_UI_PORT ?? String((port ?? 7233) + DEV_UI_PORT_OFFSET);
  return `http://${host}:${uiPort}`;
}

/** The pages of a Temporal run in the Web UI (its routes since UI 2.x). */
export type TemporalRunTab = 'history' | 'pending-activities' | 'user-metadata' | 'query';

/**
 * A run's page in Temporal's Web UI. Without a Temporal run id the UI opens the workflow id's latest run;
 * a tab needs the run id.
 */
export function temporalRunLink(
  settings: Pick<ConnectSettings, 'address' | 'namespace'>,
  workflowId: string,
  opts: { runId?: string | undefined; tab?: TemporalRunTab; env?: Env } = {},
): string {
  const base = `${temporalUiBase(settings, opts.env)}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  if (!opts.runId) return base;
  return `${base}/${encodeURIComponent(opts.runId)}${opts.tab ? `/${opts.tab}` : ''}`;
}

/** `baton ui`'s address, when `BATON_UI_URL` says where one runs. */
export function batonUiBase(env: Env = process.env): string | undefined {
  return env.BATON_UI_URL ? env.BATON_UI_URL.replace(/\/+$/, '') : undefined;
}

/** A run's page (a phase selected, if given) on a `baton ui` at `base`. */
export function batonRunPath(workflowId: string, phase?: string): string {
  return `/runs/${encodeURIComponent(workflowId)}${phase === undefined ? '' : `?phase=${encodeURIComponent(phase)}`}`;
}

/** A run's page on the `baton ui` that BATON_UI_URL names, or undefined when none is named. */
export function batonRunLink(workflowId: string, opts: { phase?: string; env?: Env } = {}): string | undefined {
  const base = batonUiBase(opts.env);
  return base ? `${base}${batonRunPath(workflowId, opts.phase)}` : undefined;
}

/** The lines `baton run` and `baton status` print: where to look at the run. */
export function runLinkLines(settings: Pick<ConnectSettings, 'address' | 'namespace'>, workflowId: string, env: Env = process.env): string[] {
  const lines = [`Web UI: ${temporalRunLink(settings, workflowId, { env })}`];
  const baton = batonRunLink(workflowId, { env });
  if (baton) lines.push(`Baton UI: ${baton}`);
  return lines;
}
