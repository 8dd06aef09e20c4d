/**
 * The workflow tier: the real `phasedRun` on real workers, against Temporal's time-skipping test
 * server, with stub activities in place of the ones that do I/O. One server and one pair of workers
 * per file (queues `baton` and `baton-default`); each test sets the stubs it needs. Time skipping is
 * global to the server, so a file's tests run one after another.
 */
import { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import type { AgentHandoff, OrchestratorActivities, PhaseActivities, PhaseRunResult, PhaseWatch, QueueWatch } from '../../src/activities/types.js';
import { statusQuery } from '../../src/core/api/definitions.js';
import type { RunStatus } from '../../src/core/api/status.js';
import type { HandoffPackage } from '../../src/core/handoff/schema.js';
import { ORCHESTRATOR_TASK_QUEUE, taskQueueFor, WORKFLOW_TYPE, type OrchestratorConfigInput, type PlanInput } from '../../src/core/plan/schema.js';
import type { phasedRun } from '../../src/core/workflows/phased-run.js';

export type Stubs = Partial<PhaseActivities> & Partial<OrchestratorActivities>;

/** One activity call as a stub saw it. */
export interface Call {
  name: string;
  activityId: string;
  attempt: number;
  args: unknown[];
}

/** What a worker reports for a phase that ran: `{"phase": <id>}` as its context. */
export function phaseResult(handoff: HandoffPackage): PhaseRunResult {
  const now = new Date().toISOString();
  return {
    context: { phase: handoff.to_phase },
    artifacts: {},
    attempt: Context.current().info.attempt,
    executed_by: 'stub-worker',
    started_at: now,
    finished_at: now,
    handoff_path: null,
    content_hash: null,
    handoff_fallback: null,
  };
}

/** What `handOffToAgent` returns: a package sealed for an agent that will never report. */
export function fakeHandoff(handoff: HandoffPackage): AgentHandoff {
  return {
    package_hash: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
    handoff_path: `/nonexistent/handoffs/phase_${handoff.to_phase}.json`,
    script_path: `/nonexistent/handoffs/run_phase_${handoff.to_phase}.sh`,
  };
}

/** Every activity either worker serves, as the workers see them before a test sets its own. */
function defaults(): Required<Stubs> {
  const unexpected = (name: string) => async (): Promise<never> => {
    throw new Error(`${name} is not stubbed in this test`);
  };
  return {
    runPhase: async (handoff) => phaseResult(handoff),
    compensatePhase: unexpected('compensatePhase'),
    writeExecutionContext: async () => {},
    exportExecutionContext: async () => {},
    archivePhases: unexpected('archivePhases'),
    archivedOutputs: unexpected('archivedOutputs'),
    handOffToAgent: async (handoff) => fakeHandoff(handoff),
    checkOutputSchemas: async () => ({}),
    verifyAgentResult: unexpected('verifyAgentResult'),
    checkOperatorOutput: unexpected('checkOperatorOutput'),
    registeredSearchAttributes: async () => [],
    openWorkdir: async () => {},
    watchQueues: async (): Promise<QueueWatch> => ({ started: [], scheduled: [], workers: {} }),
    // Nothing changes in Temporal behind a stub run's back: the watch answers only when cancelled (or the run ends).
    watchPhases: async (): Promise<PhaseWatch> => {
      await Context.current().cancelled.catch(() => undefined);
      return { notes: {} };
    },
    refreshArtifacts: unexpected('refreshArtifacts'),
    resetOrigin: unexpected('resetOrigin'),
    verifyResume: unexpected('verifyResume'),
  };
}

const PHASE_ACTIVITIES = ['runPhase', 'compensatePhase'] as const;

export interface Harness {
  env: TestWorkflowEnvironment;
  /** Replaces the stubs for the next run (the rest keep their defaults) and forgets earlier calls. */
  stub(stubs: Stubs): void;
  /** Calls the stubs received, in order, optionally of one activity only. */
  calls(name?: keyof Stubs): Call[];
  start(plan: PlanInput, config?: OrchestratorConfigInput): Promise<WorkflowHandle<typeof phasedRun>>;
  status(handle: WorkflowHandle<typeof phasedRun>): Promise<RunStatus>;
  /** A promise for a stub to hang on: settled by the file's teardown, or when its activity is cancelled. */
  hang(): Promise<void>;
}

/** Starts the test server and both workers before the file's tests, and stops them after. */
export function useHarness(): Harness {
  let env: TestWorkflowEnvironment | undefined;
  let current: Required<Stubs> = defaults();
  let calls: Call[] = [];
  let runs = 0;
  const hung = new Set<() => void>();
  const workers: { worker: Worker; running: Promise<void> }[] = [];

  const activities = Object.fromEntries(
    (Object.keys(current) as (keyof Stubs)[]).map((name) => [
      name,
      (...args: unknown[]) => {
        const { activityId, attempt } = Context.current().info;
        calls.push({ name, activityId, attempt, args });
        return (current[name] as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  );
  const only = (names: readonly string[], keep: boolean) =>
    Object.fromEntries(Object.entries(activities).filter(([name]) => names.includes(name) === keep));

  beforeAll(async () => {
    installQuietRuntime();
    env = await startTestServer(inject('testServerPath'));
    const common = { connection: env.nativeConnection, namespace: env.namespace ?? 'default' };
    const created = await Promise.all([
      Worker.create({
        ...common,
        taskQueue: ORCHESTRATOR_TASK_QUEUE,
        workflowBundle: { code: inject('workflowBundle') },
        activities: only(PHASE_ACTIVITIES, false),
      }),
      Worker.create({ ...common, taskQueue: taskQueueFor('default'), activities: only(PHASE_ACTIVITIES, true) }),
    ]);
    for (const worker of created) workers.push({ worker, running: worker.run() });
  }, 120_000);

  afterAll(async () => {
    for (const release of hung) release();
    for (const { worker } of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.all(workers.map(({ running }) => running));
    await env?.teardown();
  }, 60_000);

  return {
    get env() {
      if (!env) throw new Error('the test environment is not up (beforeAll failed?)');
      return env;
    },
    stub(stubs) {
      current = { ...defaults(), ...stubs };
      calls = [];
    },
    calls(name) {
      return name ? calls.filter((c) => c.name === name) : [...calls];
    },
    start(plan, config) {
      runs += 1;
      return this.env.client.workflow.start<typeof phasedRun>(WORKFLOW_TYPE, {
        taskQueue: ORCHESTRATOR_TASK_QUEUE,
        workflowId: `timeskip-${process.pid}-${runs}`,
        args: [{ plan, config }],
      });
    },
    status(handle) {
      return handle.query(statusQuery);
    },
    hang() {
      return new Promise<void>((resolve) => {
        const release = (): void => {
          hung.delete(release);
          resolve();
        };
        hung.add(release);
        Context.current().cancelled.catch(release);
      });
    },
  };
}

/**
 * The SDK gives the server 5 seconds to answer; a JVM starting on a busy machine (other test files
 * start theirs at the same time) may need longer, so one more try.
 */
async function startTestServer(path: string): Promise<TestWorkflowEnvironment> {
  const start = () => TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  try {
    return await start();
  } catch (err) {
    console.warn(`the time-skipping test server did not start (${String(err)}); trying once more`);
    return start();
  }
}

/**
 * Errors only, from the SDK and from Core: the runs under test warn on purpose (lost workers, failed
 * exports), and Core warns that the test server lacks capabilities of a real server.
 */
function installQuietRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // Already installed in this process (the test pool reuses it): keep that one.
  }
}

/** Polls the status query until `ready` holds (real time: for states the run reaches without timers). */
export async function waitForStatus(h: Harness, handle: WorkflowHandle<typeof phasedRun>, ready: (s: RunStatus) => boolean, timeoutMs = 20_000): Promise<RunStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await h.status(handle);
    if (ready(status)) return status;
    if (Date.now() > deadline) throw new Error(`status not reached in ${timeoutMs}ms: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
