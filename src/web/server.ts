/**
 * `baton ui`'s HTTP server: the page, its assets, and the JSON the page reads and posts. Node's own http
 * module; loopback by default. Requests that change a run must be JSON from the page's own origin, and on
 * loopback the Host must be the server's, so another web site cannot drive it through the browser.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { batonRunPath, temporalRunLink, type TemporalRunTab } from '../client/ui-links.js';
import { readStatusFile } from '../client/read-status.js';
import type { RunStatus } from '../core/api/status.js';
import { performAction, ActionRequestSchema, DEFAULT_TIMING, type ActionTiming } from './actions.js';
import type { ActionRequest, GraphResponse, RunResponse, RunRow, RunsResponse } from './api.js';
import { layoutGraph, type GraphLayout, type LayoutPhase } from './graph.js';
import { blockedBy, dependencyOrder, finishedLayers, layersOf } from './layers.js';
import { pageShell } from './page-shell.js';
import { DEFAULT_TAIL_BYTES, logTail, phaseLogs, phasePackage } from './run-files.js';
import { NoSuchRun, type RunAccess, type RunListing, type RunsSource } from './source.js';
import { renderGraphSvg } from './svg.js';

export interface UiServerOptions {
  source: RunsSource;
  /** Where Temporal is, for links into its Web UI and for the page's header (never credentials). */
  connection: { address: string; namespace: string };
  /** For the links: TEMPORAL_UI_URL and TEMPORAL_UI_PORT (see src/client/ui-links.ts). */
  env?: Record<string, string | undefined>;
  host?: string;
  port?: number;
  /** The page's built script and style sheet; dist/web/assets beside this file by default. */
  assetsDir?: string;
  /** How long a status is reused between the page's polls (they come every second or two). */
  statusTtlMs?: number;
  actionTiming?: ActionTiming;
  /** Plans of more phases than this open with their finished layers folded. */
  autoFoldOver?: number;
}

export interface UiServer {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

const DEFAULT_ASSETS = fileURLToPath(new URL('./assets/', import.meta.url));
const ASSET_TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.map': 'application/json' };
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
const OPEN_RUNS_LIMIT = 1000;
const CLOSED_RUNS_LIMIT = 100;
const MAX_BODY_BYTES = 64 * 1024;
const GRAPH_CACHE_SIZE = 24;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Held runs first, then those awaiting an agent, then the rest of the open ones; newest first within each. */
function openRank(r: RunListing): number {
  if (r.batonState === 'held' || r.held.length > 0) return 0;
  if (r.awaitingAgent.length > 0) return 1;
  return 2;
}

export function createUiHandler(opts: UiServerOptions, self: () => { host: string; port: number }): http.RequestListener {
  const env = opts.env ?? process.env;
  const assetsDir = opts.assetsDir ?? DEFAULT_ASSETS;
  const ttl = opts.statusTtlMs ?? 1000;
  const autoFoldOver = opts.autoFoldOver ?? 60;
  const statusCache = new Map<string, { at: number; value: Promise<RunStatus> }>();
  const graphCache = new Map<string, { layout: GraphLayout; ms: number }>();
  const assets = new Map<string, Buffer>();
  const shell = pageShell(opts.connection);

  const temporalLink = (workflowId: string, runId?: string, tab?: TemporalRunTab): string =>
    temporalRunLink(opts.connection, workflowId, { runId, ...(tab ? { tab } : {}), env });

  function status(id: string, run: RunAccess, fresh = false): Promise<RunStatus> {
    const hit = statusCache.get(id);
    if (!fresh && hit && Date.now() - hit.at < ttl) return hit.value;
    const value = run.status();
    statusCache.set(id, { at: Date.now(), value });
    value.catch(() => statusCache.delete(id));
    if (statusCache.size > 200) statusCache.delete(statusCache.keys().next().value!);
    return value;
  }

  /** The status's phases, with those it left out for size put back from execution_context.json when it can be read here. */
  async function allPhases(s: RunStatus): Promise<{ phases: RunStatus['phases']; missing: number }> {
    if (!s.omitted_phases) return { phases: s.phases, missing: 0 };
    const full = await readStatusFile(path.join(path.resolve(s.workdir), 'execution_context.json')).catch(() => undefined);
    if (!full || full.execution_id !== s.execution_id) return { phases: s.phases, missing: s.omitted_phases };
    return { phases: { ...full.phases, ...s.phases }, missing: 0 };
  }

  async function listRuns(): Promise<RunsResponse> {
    const listed = await opts.source.listRuns({ open: OPEN_RUNS_LIMIT, closed: CLOSED_RUNS_LIMIT });
    const newest = (a: RunListing, b: RunListing): number => (b.startTime?.getTime() ?? 0) - (a.startTime?.getTime() ?? 0);
    const open = [...listed.open].sort((a, b) => openRank(a) - openRank(b) || newest(a, b));
    const row = (r: RunListing): RunRow => {
      const isOpen = r.executionStatus === 'running';
      return {
        workflow_id: r.workflowId,
        run_id: r.runId,
        plan: r.plan,
        // A closed run's attributes say what it said last (a terminated run may still say "held").
        state: isOpen ? (r.batonState ?? 'running') : r.executionStatus === 'completed' || r.executionStatus === 'failed' ? (r.batonState ?? r.executionStatus) : r.executionStatus,
        execution_status: r.executionStatus,
        held_phases: isOpen ? r.held : [],
        awaiting_agent: isOpen ? r.awaitingAgent : [],
        running_phases: isOpen ? r.running : [],
        started_at: r.startTime?.toISOString() ?? null,
        closed_at: r.closeTime?.toISOString() ?? null,
        links: { baton: batonRunPath(r.workflowId), temporal: temporalLink(r.workflowId) },
      };
    };
    return { runs: [...open, ...[...listed.closed].sort(newest)].map(row), queries: listed.queries, more: listed.more };
  }

  async function runView(id: string, run: RunAccess): Promise<RunResponse> {
    const [described, s] = await Promise.all([run.describe(), status(id, run)]);
    const { phases, missing } = await allPhases(s);
    const order = dependencyOrder(phases);
    const runId = described.runId;
    return {
      status: s,
      temporal: { workflow_id: id, run_id: runId, execution_status: described.executionStatus },
      layers: layersOf(phases, order),
      blocked_by: blockedBy(phases, order),
      links: {
        baton: batonRunPath(id),
        temporal_run: temporalLink(id),
        temporal_details: temporalLink(id, runId, 'user-metadata'),
        temporal_pending_activities: temporalLink(id, runId, 'pending-activities'),
        temporal_history: temporalLink(id, runId, 'history'),
      },
      missing_phases: missing,
    };
  }

  async function graph(id: string, run: RunAccess, fold: string): Promise<GraphResponse> {
    const s = await status(id, run);
    const { phases } = await allPhases(s);
    const order = dependencyOrder(phases);
    const layers = layersOf(phases, order);
    const foldable = finishedLayers(phases, layers);
    const wanted = fold === 'auto' ? (order.length > autoFoldOver ? foldable : []) : fold === 'none' || fold === '' ? [] : fold.split(',').map(Number);
    const folded = foldable.filter((n) => wanted.includes(n));
    const shape: Record<string, LayoutPhase> = {};
    // In plan order, which the layout keeps within a layer.
    for (const [key, p] of Object.entries(phases)) shape[key] = { name: p.name, depends_on: p.depends_on };
    const cacheKey = `${id}\n${folded.join(',')}\n${order.map((k) => `${k}<${phases[k]!.depends_on.join(',')}`).join(';')}`;
    let cached = graphCache.get(cacheKey);
    if (!cached) {
      const started = performance.now();
      const layout = layoutGraph({ phases: shape, layers, folded });
      cached = { layout, ms: Math.round(performance.now() - started) };
      graphCache.set(cacheKey, cached);
      if (graphCache.size > GRAPH_CACHE_SIZE) graphCache.delete(graphCache.keys().next().value!);
    }
    const { layout, ms } = cached;
    return {
      svg: renderGraphSvg(layout, phases, blockedBy(phases, order)),
      width: layout.width,
      height: layout.height,
      folded,
      foldable,
      layer_count: Object.values(layers).reduce((max, n) => Math.max(max, n + 1), 0),
      node_count: layout.nodes.length,
      layout_ms: ms,
    };
  }

  async function phaseKeyOf(id: string, run: RunAccess, key: string): Promise<RunStatus> {
    const s = await status(id, run);
    if (!(key in s.phases) && !(key in (await allPhases(s)).phases)) throw new HttpError(404, `run ${id} has no phase ${key}`);
    return s;
  }

  async function readBody(req: http.IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request too large');
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new HttpError(400, 'the request is not JSON');
    }
  }

  function checkOrigin(req: http.IncomingMessage): void {
    const { host, port } = self();
    const hostHeader = req.headers.host ?? '';
    if (isLoopback(host)) {
      const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host}:${port}`];
      if (!allowed.includes(hostHeader)) throw new HttpError(403, `this server answers to ${allowed[0]} only (Host was ${hostHeader || 'missing'})`);
    }
    if (req.method === 'POST') {
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'send JSON (Content-Type: application/json)');
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== `http://${hostHeader}`) throw new HttpError(403, `requests from ${origin} are not accepted`);
    }
  }

  async function asset(name: string): Promise<Buffer> {
    const known = assets.get(name);
    if (known) return known;
    try {
      const data = await readFile(path.join(assetsDir, name));
      assets.set(name, data);
      return data;
    } catch {
      throw new HttpError(500, `the page's ${name} is missing from ${assetsDir}: build Baton (npm run build)`);
    }
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    checkOrigin(req);
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    const parts = url.pathname.split('/').slice(1).map((p) => decodeURIComponent(p));
    const method = req.method ?? 'GET';
    const json = (body: unknown, status = 200): void => send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), { 'Cache-Control': 'no-store' });

    if (method === 'GET' && (url.pathname === '/' || (parts[0] === 'runs' && parts.length === 2 && parts[1]))) {
      return send(res, 200, 'text/html; charset=utf-8', shell, { 'Cache-Control': 'no-store' });
    }
    if (method === 'GET' && parts[0] === 'assets' && parts.length === 2 && /^[\w.-]+$/.test(parts[1]!)) {
      const type = ASSET_TYPES[path.extname(parts[1]!)];
      if (!type) throw new HttpError(404, 'no such asset');
      return send(res, 200, type, await asset(parts[1]!), { 'Cache-Control': 'no-cache' });
    }
    if (parts[0] !== 'api') throw new HttpError(404, `nothing at ${url.pathname}`);
    if (method === 'GET' && parts[1] === 'runs' && parts.length === 2) return json(await listRuns());
    if (parts[1] !== 'runs' || !parts[2]) throw new HttpError(404, `nothing at ${url.pathname}`);

    const id = parts[2];
    const run = opts.source.run(id);
    const rest = parts.slice(3);
    if (method === 'GET' && rest.length === 0) {
      const body = JSON.stringify(await runView(id, run));
      // The page polls: an unchanged answer costs one header.
      const etag = `"${hash(body)}"`;
      if (req.headers['if-none-match'] === etag) return send(res, 304, '', '', { ETag: etag, 'Cache-Control': 'no-cache' });
      return send(res, 200, 'application/json; charset=utf-8', body, { ETag: etag, 'Cache-Control': 'no-cache' });
    }
    if (method === 'GET' && rest.length === 1 && rest[0] === 'graph') return json(await graph(id, run, url.searchParams.get('fold') ?? 'auto'));
    if (method === 'POST' && rest.length === 1 && rest[0] === 'actions') {
      const parsed = ActionRequestSchema.safeParse(await readBody(req));
      if (!parsed.success) throw new HttpError(400, `not an action: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
      const { phase, ...fields } = parsed.data;
      const request: ActionRequest = { ...fields, ...(phase === undefined ? {} : { phase: String(phase) }) };
      const outcome = await performAction(run, request, opts.actionTiming ?? DEFAULT_TIMING);
      statusCache.delete(id);
      return json(outcome);
    }
    if (method === 'GET' && rest[0] === 'phases' && rest[1]) {
      const key = rest[1];
      const s = await phaseKeyOf(id, run, key);
      if (rest.length === 3 && rest[2] === 'package') return json(await phasePackage(s, key));
      if (rest.length === 3 && rest[2] === 'logs') return json(await phaseLogs(s, key));
      if (rest.length === 4 && rest[2] === 'logs') {
        const tail = await logTail(s, key, rest[3]!, Number(url.searchParams.get('bytes') ?? DEFAULT_TAIL_BYTES) || DEFAULT_TAIL_BYTES);
        if (!tail) throw new HttpError(404, `phase ${key} has no log ${rest[3]}`);
        return json(tail);
      }
    }
    throw new HttpError(404, `nothing at ${method} ${url.pathname}`);
  }

  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : err instanceof NoSuchRun ? 404 : 502;
      if (!res.headersSent) send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: (err as Error).message }), { 'Cache-Control': 'no-store' });
      else res.end();
    });
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...(type ? { 'Content-Type': type } : {}), ...headers });
  res.end(status === 304 ? undefined : body);
}

/** FNV-1a, for ETags. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}

export async function startUiServer(opts: UiServerOptions): Promise<UiServer> {
  const host = opts.host ?? '127.0.0.1';
  let port = opts.port ?? 0;
  const server = http.createServer(createUiHandler(opts, () => ({ host, port })));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
