/**
 * One run of a plan, as the workflow drives it: the run book, the phases in flight and the
 * rollbacks, the exports, and what operators and agents ask of it. The handlers (handlers.ts)
 * and the main loop (phased-run.ts) both work through this one object.
 */
import type { RunWhere } from './run-where.js';
import { condition, isCancellation, log, setCurrentDetails, upsertMemo } from '@temporalio/workflow';
import { failure } from '../api/failures.js';
import { cutText, LIMITS } from '../api/limits.js';
import type { AgentProgress, CompletePhaseResponse, ExecutePhaseRequest, PhaseInterrupted, RetryPhaseRequest, SkipPhaseRequest } from '../api/messages.js';
import type { PhasesPage, PhasesRequest, PhaseStatus, RunStatus } from '../api/status.js';
import type { AgentResult } from '../handoff/result.js';
import { describeFindings, findSecrets, redactSecrets } from '../handoff/secrets.js';
import { phaseKey } from '../plan/schema.js';
import { cancellation, orchestratorActivities } from './activities.js';
import { agentResultProblem, completeFromAgent } from './agent-results.js';
import type { RunBehaviour } from './behaviour.js';
import { renderDetails } from './details.js';
import { ExecutionContextExport } from './execution-context-export.js';
import { awaitAgent, failureMessage, runCompensation, runPhase, type PhaseRunContext } from './phase-lifecycle.js';
import { overview, phasesPage, runStatus, unrequestedDependencies } from './projections.js';
import type { RunBook } from './run-book.js';
import { ResetWatch } from './reset-watch.js';
import { SearchAttributeSync } from './search-attribute-sync.js';
import { boundedStatus, memoStatus } from './status-size.js';

export class Run implements PhaseRunContext {
  /** Bumped on every change the main loop may be waiting on. */
  changes = 0;
  /** executePhase calls waiting for their phase: the run does not continue as new under them. */
  requestsWaiting = 0;
  readonly inFlight = new Map<string, Promise<void>>();
  /** Rollbacks: they do not hold a phase slot, but the run waits for them before it ends. */
  readonly rollbacks = new Set<Promise<void>>();
  readonly exports: ExecutionContextExport;
  /** Replaced once the run knows which search attributes the namespace has registered. */
  searchAttributes = new SearchAttributeSync([]);
  /** Whether a Reset made this run, and from where (see reset-watch.ts). */
  readonly resets: ResetWatch;

  constructor(
    readonly book: RunBook,
    readonly behaviour: RunBehaviour,
    readonly where: RunWhere,
  ) {
    this.exports = new ExecutionContextExport(book, where, this.notice, behaviour);
    this.resets = new ResetWatch(book, behaviour, this.notice, this.changed);
  }

  readonly changed = (): void => {
    this.changes++;
  };

  /** Kept short and few (the latest LIMITS.notices), whatever comes: a notice must never be what makes the status too large. */
  readonly notice = (message: string | undefined): void => {
    if (!message) return;
    // A notice may quote what was sent (a refused message's payload): never a credential in it.
    const kept = cutText(redactSecrets(message), LIMITS.noticeChars);
    log.warn(kept);
    const { notices } = this.book;
    notices.push(kept);
    if (notices.length > LIMITS.notices) this.book.noticesDropped += notices.splice(0, notices.length - LIMITS.notices).length;
    this.changed();
  };

  // What operators and agents ask (handlers.ts parses their messages first).

  status(): RunStatus {
    return boundedStatus(runStatus(this.book, null));
  }

  phasesPage(request: PhasesRequest): PhasesPage {
    return phasesPage(this.book, request);
  }

  pause(): void {
    this.book.paused = true;
    this.changed();
  }

  resume(): void {
    this.book.paused = false;
    this.changed();
  }

  retry(request: RetryPhaseRequest): void {
    const { book } = this;
    const key = phaseKey(request.phase);
    if (request.resource_class !== undefined && !(request.resource_class in book.config.resource_classes)) {
      return this.notice(`retryPhase: resource class "${request.resource_class}" is not declared; use one of: ${Object.keys(book.config.resource_classes).join(', ')}`);
    }
    if (this.behaviour.checksInputs) {
      // An override goes into the phase's packages and status from now on: never a credential.
      const { phase: _phase, ...overrides } = request;
      const findings = findSecrets(overrides, { safeKeys: book.plan.safe_keys });
      if (findings.length > 0) {
        const why = describeFindings(findings, "pass credentials to the phase through the worker's environment instead, or list the key in the plan's \"safe_keys\" if it is not a secret");
        return this.notice(`retryPhase: refused (phase ${key} was not retried): its overrides carry credentials: ${why.join('; ')}`);
      }
    }
    const refused = book.retry(key, request.downstream === true);
    if (refused) return this.notice(refused);
    this.notice(book.override(key, request));
    if (request.refresh) book.refreshDue.add(key);
    this.changed();
  }

  skip(request: SkipPhaseRequest): void {
    this.notice(this.book.skip(phaseKey(request.phase)));
    this.changed();
  }

  progress(report: AgentProgress): void {
    this.notice(this.book.progress(phaseKey(report.phase), cutText(redactSecrets(report.message), LIMITS.progressChars), report.percent, new Date()));
    this.changed();
  }

  /** An attempt was interrupted and the next has started: said in the notices, once per attempt. */
  interrupted(report: PhaseInterrupted): void {
    const key = phaseKey(report.phase);
    if (!this.book.has(key) || this.book.record(key).generation !== report.generation) return;
    const budget = this.book.config.worker_loss_retries;
    this.notice(
      `phase ${key}: attempt ${report.attempt - 1} was interrupted (${report.reason}), not failed; attempt ${report.attempt} runs now, without spending a retry (${report.interruptions} of ${budget} interruptions allowed)`,
    );
  }

  /** Why an agent's result cannot be taken as the phase stands, or undefined (checked again after verification). */
  agentResultProblem(result: AgentResult): string | undefined {
    return agentResultProblem(this.book, result);
  }

  async acceptAgentResult(result: AgentResult): Promise<CompletePhaseResponse> {
    const { book } = this;
    const key = phaseKey(result.phase);
    try {
      await orchestratorActivities.verifyAgentResult.executeWithOptions(cancellation(this.behaviour), [result, {
        workdir: this.where.workdir,
        base_dir: this.where.baseDir,
        accept_unsigned: book.config.accept_unsigned_results,
        ...(this.where.store ? { store: this.where.store } : {}),
        output_schema: book.phasesByKey.get(key)?.output_schema ?? null,
        ...(this.behaviour.checksInputs ? { safe_keys: book.plan.safe_keys } : {}),
      }]);
    } catch (err) {
      throw failure('ResultRefused', failureMessage(err));
    }
    // The phase may have moved while the result was checked (another agent, a timeout).
    const problem = agentResultProblem(book, result);
    if (problem) throw failure('ResultRefused', problem);
    completeFromAgent(book, key, result);
    this.changed();
    return { accepted: true as const, phase: book.phase(key).status() };
  }

  requestProblem(request: ExecutePhaseRequest): string | undefined {
    return this.book.requestProblem(phaseKey(request.phase));
  }

  /** The guide's execute_phase: resolves once the phase has run, or its package is ready for an agent. */
  async executePhase(request: ExecutePhaseRequest): Promise<PhaseStatus> {
    const { book } = this;
    const key = phaseKey(request.phase);
    book.request(key, request.use_separate_agent);
    // With auto_advance off, a dependency nobody requested never starts: say so rather than wait in silence.
    const waits = book.plan.auto_advance ? [] : unrequestedDependencies(book, key);
    if (waits.length > 0) {
      const names = waits.map((id) => JSON.stringify(id)).join(', ');
      const one = waits.length === 1;
      this.notice(
        `executePhase: phase ${key} waits for ${one ? 'phase' : 'phases'} ${names}, which nobody has requested (the plan has auto_advance: false): request ${one ? 'it' : 'them'} with executePhase too (${waits.map((id) => `{"phase": ${JSON.stringify(id)}}`).join(', ')}); until then phase ${key} does not start`,
      );
    }
    this.changed();
    const rec = book.record(key);
    this.requestsWaiting += 1;
    try {
      await condition(() => ['completed', 'failed', 'skipped'].includes(rec.state) || (rec.separate_agent && rec.state === 'awaiting_agent'));
    } finally {
      this.requestsWaiting -= 1;
    }
    return book.phase(key).status();
  }

  // The phases in flight, and the rollbacks.

  /** Starts the ready phases, as many as the run's slots allow. */
  startReady(): void {
    const { book } = this;
    for (const key of book.readyPhases()) {
      if (book.running() >= book.config.max_parallel_phases) break;
      const work = runPhase(this, book.phase(key));
      this.track(key, this.behaviour.exportsOnCadence ? work : work.then(() => this.exports.now()));
    }
  }

  /** A run that continued as new takes over the waits for agents its predecessor had started. */
  resumeAgentWaits(): void {
    for (const key of this.book.keysIn('awaiting_agent')) this.track(key, awaitAgent(this, this.book.phase(key)));
  }

  private track(key: string, work: Promise<void>): void {
    const settled = (): void => {
      this.inFlight.delete(key);
      this.exports.markDue();
      this.changed(); // the loop may be waiting for in-flight work to drain
    };
    // One promise per phase rather than three (see runPhase on why that matters).
    const promise = work.then(settled, (err: unknown) => {
      // Aborted: the main loop winds the run down. Anything else is a bug, and failing the
      // workflow task (to retry after a fix) is the right thing: rethrow.
      if (isCancellation(err)) this.book.phase(key).abandon(new Date());
      settled();
      if (!isCancellation(err)) throw err;
    });
    this.inFlight.set(key, promise);
  }

  compensate(key: string): void {
    const promise = runCompensation(this, this.book.phase(key)).finally(() => {
      this.rollbacks.delete(promise);
      this.changed();
    });
    this.rollbacks.add(promise);
  }

  /** Only waits for agents are left in flight: those carry over to the next run. */
  drained(): boolean {
    return this.rollbacks.size === 0 && [...this.inFlight.keys()].every((k) => this.book.record(k).state === 'awaiting_agent');
  }

  // What the run shows.

  publish(): void {
    const shown = overview(this.book);
    setCurrentDetails(renderDetails(shown, this.book, this.book.executionId, this.book.notices, this.book.config.baton_ui_url));
    this.searchAttributes.sync(shown);
  }

  /** The final status, shown and exported, and kept in the memo so it outlives the run whatever its end. */
  async close(): Promise<RunStatus> {
    const final = runStatus(this.book, new Date());
    this.publish();
    upsertMemo({ status: memoStatus(final) });
    await this.exports.now(final);
    return final;
  }
}
