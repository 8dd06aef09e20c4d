// Records the histories of representative runs into tests/histories/<name>.json (run id
// history-<name>, which the replay test reuses), for the replay tests:
// a workflow change that would break runs in flight then fails CI. Run after `npm run build`:
//   node scripts/record-histories.mjs [scenario…]
// Name scenarios to record only those: histories of runs made by earlier code must be kept, not
// re-recorded, since runs like them may still be in flight somewhere.
// A file <name>.<variant>.json replays under the workflow id history-<name>.
// Starts its own dev server on free loopback ports and stops it at the end.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Orchestrator } from '../dist/client/orchestrator.js';
import { BATON_SEARCH_ATTRIBUTES } from '../dist/core/api/search-attributes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = path.join(ROOT, 'tests/histories');
const PHASE = path.join(ROOT, 'tests/fixtures/phase.mjs');
const KEY = 'history-recording-key-0123456789';
const phase = (id, deps = [], config = {}, extra = {}) => ({ id, name: `Phase ${id}`, depends_on: deps, command: ['node', PHASE], config, ...extra });
const tmp = () => mkdtemp(path.join(os.tmpdir(), 'baton-record-'));
// A phase that stays busy in its first generation (sleep_ms_g1), so that it can be reset while it runs.
const LIFECYCLE = path.join(ROOT, 'tests/fixtures/lifecycle-phase.mjs');
const lifecyclePhase = (id, deps = [], config = {}) => ({ id, name: `Phase ${id}`, depends_on: deps, command: ['node', LIFECYCLE], config });
/** The Temporal run the first reset of the `reset` scenario made, for `reset.once`. */
let resetOnce;

const binary = execFileSync('bash', [path.join(ROOT, 'temporal-dev.sh'), 'path'], { encoding: 'utf8' }).trim();
const env = await TestWorkflowEnvironment.createLocal({
  server: { executable: { type: 'existing-path', path: binary }, ip: '127.0.0.1', searchAttributes: BATON_SEARCH_ATTRIBUTES, extraArgs: ['--log-level', 'error'] },
});
const batonEnv = { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default', BATON_HANDOFF_KEY: KEY, BATON_LOG_LEVEL: 'ERROR' };
const worker = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'worker'], { env: batonEnv, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve) => worker.stdout.on('data', (d) => String(d).includes('serving') && resolve()));
const cli = (args) => execFileSync(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), ...args], { env: batonEnv, encoding: 'utf8' });
const orchestrator = new Orchestrator(env.client);
const until = async (run, test) => {
  for (let i = 0; i < 300; i++) {
    const s = await run.status();
    if (test(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${run.runId} did not get there`);
};
const closed = async (run) => {
  for (let i = 0; i < 300 && (await run.workflow.describe()).status.name === 'RUNNING'; i++) await new Promise((r) => setTimeout(r, 100));
};

const scenarios = {
  async consolidation() {
    const example = path.join(ROOT, 'examples/consolidation');
    cli(['run', path.join(example, 'plan.json'), '--config', path.join(example, 'orchestrator_config.json'), '--id', 'history-consolidation', '--json']);
    return 'history-consolidation';
  },
  async 'retry-and-override'() {
    const workdir = await tmp();
    const run = await orchestrator.start(
      { name: 'retries', workdir, phases: [phase(0, [], { fail_until_attempt: 2 }, { retries: 1 }), { id: 1, name: 'Needs a GPU', depends_on: [0], command: ['sh', '-c', 'test "$BATON_TASK_QUEUE" = baton-gpu'] }, phase(2, [1])] },
      {},
      { runId: 'history-retry-and-override' },
    );
    await until(run, (s) => s.state === 'held');
    await run.workflow.signal('retryPhase', { phase: 1, resource_class: 'gpu' });
    await run.finalStatus();
    return run.runId;
  },
  async 'agent-and-update'() {
    const workdir = await tmp();
    const run = await orchestrator.start(
      { name: 'agents', workdir, auto_advance: false, phases: [phase(0), phase(1, [0]), phase(2, [1], {}, { use_separate_agent: true, agent_timeout_s: 600 })] },
      {},
      { runId: 'history-agent-and-update' },
    );
    await run.executePhase(0, { useSeparateAgent: false });
    await run.executePhase(1, { useSeparateAgent: true });
    const waiting = await until(run, (s) => s.phases['1'].state === 'awaiting_agent');
    await run.reportProgress(1, 'half way', 50);
    cli(['execute-phase', waiting.phases['1'].awaiting.handoff_path]);
    await until(run, (s) => s.phases['1'].state === 'completed');
    await run.executePhase(2);
    const second = await until(run, (s) => s.phases['2'].state === 'awaiting_agent');
    const out = path.join(workdir, 'result.json');
    cli(['execute-phase', second.phases['2'].awaiting.handoff_path, '--offline', '--out', out]);
    cli(['submit', out]);
    await run.finalStatus();
    return run.runId;
  },
  // The consolidation example under the large-plans patch (exports on a cadence).
  async 'consolidation.large-plans-1'() {
    return scenarios.consolidation();
  },
  // A run that continues as new twice, with an agent's wait carried across; the last run's history.
  async 'continue-as-new'() {
    const workdir = await tmp();
    const run = await orchestrator.start(
      {
        name: 'continued',
        workdir,
        phases: [phase(0), phase(1, [], {}, { use_separate_agent: true, agent_timeout_s: 600 }), phase(2, [0]), phase(3, [2]), phase(4, [3], {}, { transitive_context: true }), phase(5, [4, 1])],
      },
      { max_parallel_phases: 2, continue_as_new_after_phases: 2 },
      { runId: 'history-continue-as-new' },
    );
    const waiting = await until(run, (s) => s.phases['1'].state === 'awaiting_agent' && (s.continued?.segment ?? 0) >= 1);
    cli(['execute-phase', waiting.phases['1'].awaiting.handoff_path]);
    await run.finalStatus();
    return run.runId;
  },
  // The first run of the same chain: the one that ends by continuing as new.
  async 'continue-as-new.first'() {
    const runs = JSON.parse(execFileSync(binary, ['workflow', 'list', '--query', `WorkflowId = 'history-continue-as-new'`, '--output', 'json', '--address', env.address], { encoding: 'utf8' }));
    const first = runs.map((r) => r.execution.runId).at(-1);
    return { runId: 'history-continue-as-new', execution: first };
  },
  // The same runs again under the strict-plans patch (and the workflow as rewritten around one Run object).
  async 'consolidation.strict-plans-1'() {
    return scenarios.consolidation();
  },
  async 'retry-and-override.strict-plans-1'() {
    return scenarios['retry-and-override']();
  },
  async 'agent-and-update.strict-plans-1'() {
    return scenarios['agent-and-update']();
  },
  async 'skip-pause-abort.strict-plans-1'() {
    return scenarios['skip-pause-abort']();
  },
  // Under baton-interruptions-1: the run marks its workdir, and phase activities get the extra attempts.
  async 'consolidation.interruptions-1'() {
    return scenarios.consolidation();
  },
  async 'retry-and-override.interruptions-1'() {
    return scenarios['retry-and-override']();
  },
  // The same run under baton-orderly-abort-1: the rollback is scheduled only once the phase's worker has stopped it.
  async 'skip-pause-abort.orderly-abort-1'() {
    return scenarios['skip-pause-abort']();
  },
  // A run reset twice while phases ran (baton reset --to-phase 1, then --to-phase 2): the last run's
  // history, which carries the first reset's marker (baton-reset-1) in the events it copied.
  async reset() {
    const workdir = await tmp();
    const run = await orchestrator.start(
      { name: 'reset', workdir, phases: [lifecyclePhase(0), lifecyclePhase(1, [0], { sleep_ms_g1: 20000 }), lifecyclePhase(2, [1], { sleep_ms_g1: 20000 })] },
      {},
      { runId: 'history-reset' },
    );
    await until(run, (s) => s.phases['1'].state === 'running');
    cli(['reset', run.runId, '--to-phase', '1', '--reason', 'phase 1 again']);
    await until(run, (s) => s.phases['2'].state === 'running');
    resetOnce = (await run.workflow.describe()).runId;
    cli(['reset', run.runId, '--to-phase', '2', '--reason', 'phase 2 again']);
    await run.finalStatus();
    return run.runId;
  },
  // The run the first reset made (ended by the second): its copied events, then its own.
  async 'reset.once'() {
    if (!resetOnce) throw new Error('record reset.once together with reset: node scripts/record-histories.mjs reset reset.once');
    return { runId: 'history-reset', execution: resetOnce };
  },
  // Under the phase-watch patch: a phase that retries with backoff, paused in Temporal between two
  // attempts and unpaused, so the history holds the watch's answers (attempts, the pause, its end).
  async 'phase-watch'() {
    const workdir = await tmp();
    const run = await orchestrator.start(
      { name: 'watched', workdir, phases: [phase(0, [], { fail_until_attempt: 5 }, { retries: 6 }), phase(1, [0])] },
      {},
      { runId: 'history-phase-watch' },
    );
    const backingOff = await until(run, (s) => {
      const a = s.phases['0'].activity;
      return a?.next_attempt_at !== undefined && Date.parse(a.next_attempt_at) - Date.now() > 3000;
    });
    const temporal = (args) => execFileSync(binary, [...args, '--workflow-id', run.runId, '--activity-id', backingOff.phases['0'].activity.id, '--address', env.address], { encoding: 'utf8' });
    temporal(['activity', 'pause', '--identity', 'recorder', '--reason', 'recording']);
    await until(run, (s) => s.phases['0'].activity?.paused !== undefined);
    temporal(['activity', 'unpause']);
    await run.finalStatus();
    return run.runId;
  },
  // Under baton-output-schemas-1: the plan's output schemas compiled at the start (checkOutputSchemas),
  // an agent's result refused by its phase's schema, then one accepted.
  async 'output-schemas'() {
    const workdir = await tmp();
    const schema = { type: 'object', required: ['report_path'], properties: { report_path: { type: 'string', minLength: 1 } } };
    const run = await orchestrator.start(
      { name: 'schemas', workdir, phases: [phase(0), phase(1, [0], {}, { use_separate_agent: true, output_schema: schema }), phase(2, [1])] },
      { accept_unsigned_results: true },
      { runId: 'history-output-schemas' },
    );
    const waiting = (await until(run, (s) => s.phases['1'].state === 'awaiting_agent')).phases['1'];
    const result = (context) => ({
      schema_version: 1,
      execution_id: run.runId,
      phase: 1,
      generation: waiting.generation,
      attempt: 1,
      package_hash: waiting.awaiting.package_hash,
      outcome: 'completed',
      output: { context, artifacts: {} },
      error: null,
      provenance: { host: 'recorder', user: 'recorder', agent: null, mode: 'online', started_at: '2026-01-01T00:00:00Z', finished_at: '2026-01-01T00:00:01Z' },
      content_hash: null,
      signature: null,
    });
    await run.complete(result({ report: 'no path' })).then(
      () => {
        throw new Error('a result without report_path was accepted');
      },
      () => undefined,
    );
    await run.complete(result({ report_path: 'out/report.md' }));
    await run.finalStatus();
    return run.runId;
  },
  // Under baton-trusted-input-1: a run started with a resume block (checked against the earlier run
  // by the verifyResume activity before anything runs), reusing phase 0 and running phase 1 again.
  async resume() {
    const workdir = await tmp();
    const plan = { name: 'resumed', workdir, phases: [phase(0), phase(1, [0], { fail_always: 'not yet' })] };
    const earlier = await orchestrator.start(plan, { failed_phase_policy: 'fail' }, { runId: 'history-resume-earlier' });
    await earlier.finalStatus().catch(() => undefined);
    const fixed = { ...plan, phases: [phase(0), phase(1, [0])] };
    const { planResume } = await import('../dist/client/resume.js');
    const { checkRun } = await import('../dist/core/plan/validate.js');
    const { resume } = await planResume(env.client, 'history-resume-earlier', checkRun(fixed).plan);
    const run = await orchestrator.start(fixed, {}, { runId: 'history-resume', resume });
    await run.finalStatus();
    return run.runId;
  },
  // The same runs again under baton-trusted-input-1: a continued run (its continued block taken, a run
  // having continued into it), overrides scanned, agents' results checked with the plan's safe_keys.
  async 'continue-as-new.trusted-input-1'() {
    return scenarios['continue-as-new']();
  },
  async 'retry-and-override.trusted-input-1'() {
    return scenarios['retry-and-override']();
  },
  async 'agent-and-update.trusted-input-1'() {
    return scenarios['agent-and-update']();
  },
  // Under baton-bounds-1: signals over their bounds (a skipPhase of 100 KB, retries 2147483647, a
  // timeout of 1e-9 s) refused with notices that quote only their start; a good retry completes the run.
  async bounded() {
    const workdir = await tmp();
    const run = await orchestrator.start({ name: 'bounded', workdir, phases: [phase(0, [], { fail_always: 'broken on purpose' }), phase(1, [0])] }, {}, { runId: 'history-bounded' });
    await until(run, (s) => s.state === 'held');
    await run.workflow.signal('skipPhase', { phase: 'x'.repeat(100_000) });
    await run.workflow.signal('retryPhase', { phase: 0, retries: 2147483647 });
    await run.workflow.signal('retryPhase', { phase: 0, timeout_s: 1e-9 });
    await until(run, (s) => s.notices.length >= 3);
    await run.workflow.signal('retryPhase', { phase: 0, config: { fail_always: '' } });
    await run.finalStatus();
    return run.runId;
  },
  // Agents and updates again under baton-bounds-1 (signals and results held to their bounds).
  async 'agent-and-update.bounds-1'() {
    return scenarios['agent-and-update']();
  },
  // The operations as updates (they need no patch: a run only gets them from new code): a retry
  // refused by its validator (not recorded), pause, a retry with an override, resume, skip,
  // markPhaseDone refused by the phase's output_schema (its check activity runs) then taken, and
  // handPhase taking a phase awaiting an agent back to a worker.
  async operations() {
    const workdir = await tmp();
    const schema = { type: 'object', required: ['report_path'], properties: { report_path: { type: 'string', minLength: 1 } } };
    const run = await orchestrator.start(
      {
        name: 'operations',
        workdir,
        phases: [
          phase(0, [], { fail_always: 'broken on purpose' }),
          phase(1, [], { fail_always: 'done by hand' }, { output_schema: schema }),
          phase(2, [1]),
          phase(3, [], { fail_always: 'skipped' }),
          phase(4, [0], {}, { use_separate_agent: true, agent_timeout_s: 600 }),
        ],
      },
      {},
      { runId: 'history-operations' },
    );
    await until(run, (s) => s.state === 'held');
    await run.retry(7).then(
      () => {
        throw new Error('a retry of phase 7 was accepted');
      },
      () => undefined,
    );
    await run.pause();
    await run.retry(0, { config: { fail_always: '' } });
    await run.resume();
    await run.skip(3);
    await run.markDone(1, { context: { report: 'no path' } }).then(
      () => {
        throw new Error('an output without report_path was accepted');
      },
      () => undefined,
    );
    await run.markDone(1, { context: { report_path: 'out/report.md' } }, { by: 'recorder', reason: 'by hand' });
    await until(run, (s) => s.phases['4'].state === 'awaiting_agent');
    await run.hand(4, 'worker');
    await run.finalStatus();
    return run.runId;
  },
  async 'skip-pause-abort'() {
    const workdir = await tmp();
    const run = await orchestrator.start(
      {
        name: 'operated',
        workdir,
        phases: [
          { id: 0, name: 'Half done', command: ['sh', '-c', 'exit 1'], compensate: ['sh', '-c', 'true'] },
          phase(1, [0]),
          { ...phase(2, [1], { sleep_ms: 20000 }), compensate: ['sh', '-c', 'true'] },
        ],
      },
      {},
      { runId: 'history-skip-pause-abort' },
    );
    await until(run, (s) => s.state === 'held');
    await run.pause();
    await run.skip(0);
    await run.resume();
    await until(run, (s) => s.phases['2'].state === 'running');
    await run.abort();
    await closed(run);
    return run.runId;
  },
  // The agent inbox's claims (no patch: new update handlers only): a claim with labels, a rival's claim
  // refused, a heartbeat, a non-holder's result refused, the holder's accepted; on another phase a
  // lease that runs out (its timer), a claim released, then a result from anyone.
  async 'agent-claims'() {
    const workdir = await tmp();
    const run = await orchestrator.start(
      {
        name: 'claims',
        workdir,
        phases: [phase(0), phase(1, [0], {}, { use_separate_agent: true, agent: { labels: ['gpu'] } }), phase(2, [1], {}, { use_separate_agent: true })],
      },
      {},
      { runId: 'history-agent-claims' },
    );
    const claim = (request) => run.workflow.executeUpdate('claimPhase', { args: [request] });
    const refused = (promise, what) =>
      promise.then(
        () => {
          throw new Error(`${what} was accepted`);
        },
        () => undefined,
      );
    const agentCli = (agent, args) => execFileSync(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), ...args], { env: { ...batonEnv, BATON_AGENT_NAME: agent }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const first = (await until(run, (s) => s.phases['1'].state === 'awaiting_agent')).phases['1'];
    await refused(claim({ phase: 1, agent: 'cpu-box' }), 'a claim without the label');
    const held = await claim({ phase: 1, agent: 'gpu-box', labels: ['gpu'], lease_s: 600 });
    await refused(claim({ phase: 1, agent: 'rival', labels: ['gpu'] }), "a rival's claim");
    await run.workflow.executeUpdate('heartbeatClaim', { args: [{ phase: 1, lease_id: held.lease_id }] });
    try {
      agentCli('rival', ['execute-phase', first.awaiting.handoff_path]);
      throw new Error("a non-holder's result was accepted");
    } catch (err) {
      if (!String(err.stderr ?? '').includes('is claimed by agent')) throw err;
    }
    agentCli('gpu-box', ['execute-phase', first.awaiting.handoff_path]);
    const second = (await until(run, (s) => s.phases['2'].state === 'awaiting_agent')).phases['2'];
    const short = await claim({ phase: 2, agent: 'slow', lease_s: 1 });
    await until(run, (s) => !s.phases['2'].awaiting?.claim);
    await refused(run.workflow.executeUpdate('heartbeatClaim', { args: [{ phase: 2, lease_id: short.lease_id }] }), 'a heartbeat on an expired lease');
    const again = await claim({ phase: 2, agent: 'quick' });
    await run.workflow.executeUpdate('releaseClaim', { args: [{ phase: 2, lease_id: again.lease_id }] });
    cli(['execute-phase', second.awaiting.handoff_path]);
    await run.finalStatus();
    return run.runId;
  },
  // A run whose config names its store (a directory here): the store travels in packages, the
  // orchestrator's activities (archives across a continue-as-new, agents' files) and the status.
  async store() {
    const workdir = await tmp();
    const store = await tmp();
    const run = await orchestrator.start(
      {
        name: 'stored',
        workdir,
        phases: [phase(0, [], { output_bytes: 3000, artifact: 'report' }), phase(1, [0], {}, { use_separate_agent: true }), phase(2, [1]), phase(3, [2])],
      },
      { store, continue_as_new_after_phases: 2 },
      { runId: 'history-store' },
    );
    const awaiting = (await until(run, (s) => s.phases['1'].state === 'awaiting_agent')).phases['1'];
    cli(['execute-phase', awaiting.awaiting.handoff_path]);
    const final = await run.finalStatus();
    if (final.state !== 'completed' || final.store !== store) throw new Error(`the store run ended ${final.state} (store ${final.store})`);
    return run.runId;
  },
  // The first run of the same chain: it archives its finished phases (in the store) and continues as new.
  async 'store.first'() {
    const runs = JSON.parse(execFileSync(binary, ['workflow', 'list', '--query', `WorkflowId = 'history-store'`, '--output', 'json', '--address', env.address], { encoding: 'utf8' }));
    return { runId: 'history-store', execution: runs.map((r) => r.execution.runId).at(-1) };
  },
};

try {
  const wanted = process.argv.slice(2);
  for (const name of wanted) if (!(name in scenarios)) throw new Error(`no scenario ${name}; scenarios: ${Object.keys(scenarios).join(', ')}`);
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (wanted.length > 0 && !wanted.includes(name)) continue;
    const recorded = await scenario();
    const { runId, execution } = typeof recorded === 'string' ? { runId: recorded } : recorded;
    // The Temporal CLI's JSON export: the standard form, readable by every SDK's replayer.
    const json = execFileSync(binary, ['workflow', 'show', '--workflow-id', runId, ...(execution ? ['--run-id', execution] : []), '--output', 'json', '--address', env.address], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    await writeFile(path.join(OUT, `${name}.json`), json);
    console.log(`tests/histories/${name}.json: ${JSON.parse(json).events.length} events`);
  }
} finally {
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  await env.teardown();
}
