// Renders BENCHMARKS.md from the results `bench/run.mjs` collected. Every number in it comes
// from those results; the explanations name the code paths the profile points at.

const s = (ms) => (ms / 1000).toFixed(2);
const ms1 = (ms) => ms.toFixed(1);
const kb = (bytes) => (bytes / 1024).toFixed(1);
const x2 = (r) => r.toFixed(2);
const verdict = (ok) => (ok ? '**met**' : '**not met**');
const row = (cells) => `| ${cells.join(' | ')} |`;

function statRow(label, st, f) {
  return row([label, f(st.median), f(st.min), f(st.max)]);
}

/** Per-phase numbers from one Baton history and one baseline history of the same size. */
function profileRows(p, wallBaton, wallRaw, { gap, cpu }) {
  const { baton, raw, phases } = p;
  const per = (v) => (v / phases).toFixed(2);
  const actList = (a) => Object.entries(a).map(([t, v]) => `${t} ×${v.count}`).join(', ');
  const exp = baton.activities.writeExecutionContext;
  const rows = [
    row(['', 'Baton', 'raw baseline']),
    row(['---', '---', '---']),
    row(['wall time of the profiled run (s)', s(wallBaton), s(wallRaw)]),
    ...(cpu
      ? [
          row(['CPU per run, this process: workers and client (s, median of the measured runs)', s(cpu.batonNodeMs.median), s(cpu.rawNodeMs.median)]),
          row(['CPU per run, Temporal server (s, median)', s(cpu.batonServerMs.median), s(cpu.rawServerMs.median)]),
        ]
      : []),
    row(['history events per phase', per(baton.events), per(raw.events)]),
    row(['workflow tasks per phase', per(baton.workflowTasks), per(raw.workflowTasks)]),
    row(['activities in the run', actList(baton.activities), actList(raw.activities)]),
    row(['local activities (MARKER_RECORDED) per phase', per(baton.byType.MARKER_RECORDED ?? 0), per(raw.byType.MARKER_RECORDED ?? 0)]),
    row(['history bytes per phase', `${kb(baton.bytes / phases)} KB`, `${kb(raw.bytes / phases)} KB`]),
    row(['… of which activity-scheduled events (inputs) per phase', `${kb((baton.bytesByEventType.ACTIVITY_TASK_SCHEDULED ?? 0) / phases)} KB`, `${kb((raw.bytesByEventType.ACTIVITY_TASK_SCHEDULED ?? 0) / phases)} KB`]),
    row(['phase activity: scheduled → started, median (ms)', ms1(baton.medianQueueWaitMs), ms1(raw.medianQueueWaitMs)]),
    row(['phase activity: started → completed, median (ms)', ms1(baton.medianExecutionMs), ms1(raw.medianExecutionMs)]),
  ];
  if (gap) rows.push(row(['phase completed → next phase scheduled, median (ms)', ms1(baton.medianGapMs), ms1(raw.medianGapMs)]));
  rows.push(
    row(['workflow task started → completed, median (ms)', ms1(baton.medianWorkflowTaskMs), ms1(raw.medianWorkflowTaskMs)]),
    row(['workflow tasks, total time (s)', s(baton.totalWorkflowTaskMs), s(raw.totalWorkflowTaskMs)]),
  );
  if (exp) {
    rows.push(
      row(['`writeExecutionContext`: input per call (KB, mean)', kb(exp.eventBytes / exp.count), '—']),
      row(['`writeExecutionContext`: scheduled → completed, median (ms)', ms1(exp.medianRoundTripMs), '—']),
      row(['`writeExecutionContext`: sum of round trips (s)', s(exp.totalRoundTripMs), '—']),
    );
  }
  return rows.join('\n');
}

function machineSection(r) {
  const m = r.machine;
  return [
    '| | |',
    '| --- | --- |',
    row(['date', r.date]),
    row(['command', `\`${r.command}\` (took ${(r.durationS / 60).toFixed(1)} min)`]),
    row(['code measured', `${r.revision.commit.slice(0, 12)} (${r.revision.subject})${r.revision.dirtySrc.length ? `, with uncommitted changes to ${r.revision.dirtySrc.join(', ')}` : ', no uncommitted changes in src/'}${r.revision.note ? `; ${r.revision.note}` : ''}`]),
    row(['CPU', `${m.cpuModel} (from /proc/cpuinfo), ${m.cores} cores`]),
    row(['memory', `${m.memoryGiB} GiB`]),
    row(['OS', m.os]),
    row(['Node', m.node]),
    row(['Temporal', m.temporal.split('\n')[0]]),
    row(['Temporal SDK', '@temporalio/* 1.24.0']),
    row(['peer', r.peer.ok ? `Prefect ${r.peer.prefect} (Python ${r.peer.python}, fastapi pinned to ${r.peer.fastapi})` : 'not run']),
  ].join('\n');
}

/** Failed Baton runs of an A/B series, said plainly: they are left out of the statistics above them. */
function failuresNote(x) {
  const failures = x.failures ?? [];
  if (failures.length === 0) return '';
  const measured = failures.filter((f) => f.run !== 'warm-up').length;
  return `
**${measured} of ${x.samples.length + measured} measured Baton runs${failures.some((f) => f.run === 'warm-up') ? ' (and the warm-up)' : ''} failed** and are left out of the statistics above:

${failures
  .map(
    (f) =>
      `- run ${f.run}: \`${f.error}\`${f.failureEvents?.length ? `; its history: ${[...new Set(f.failureEvents)].map((e) => `\`${e.slice(0, 300)}\``).join('; ')}` : ''}${f.historyEvents ? ` (${f.historyEvents} events, ${f.phasesCompleted} of ${f.phasesScheduled} scheduled phases completed)` : ''}`,
  )
  .join('\n')}
`;
}

function chainSection(c) {
  const ratio = c.baton.median / c.raw.median;
  const perPhaseB = c.baton.median / c.phases;
  const perPhaseR = c.raw.median / c.phases;
  const p = c.profile;
  const exp = p.baton.activities.writeExecutionContext;
  return `## 1. Overhead per phase: a chain of ${c.phases} no-op phases

Baton: ${c.phases} \`handler\` phases, each depending on the one before, the handler returning \`{}\`,
handoff packages on (files written). Baseline: \`rawChain\`, ${c.phases} \`noop\` activities awaited one
after another. ${c.samples.length} measured A/B pairs after one warm-up of each.

| wall time (s) | median | min | max |
| --- | --- | --- | --- |
${statRow('Baton', c.baton, s)}
${statRow('raw baseline', c.raw, s)}
${statRow('Baton / raw, per A/B pair', c.pairRatio, x2)}
${failuresNote(c)}
| result | value | target | |
| --- | --- | --- | --- |
| Baton / raw (medians) | **${x2(ratio)}** | ≤ 1.10 | ${verdict(ratio <= 1.1)} |
| time per phase, Baton | ${ms1(perPhaseB)} ms | | |
| time per phase, raw | ${ms1(perPhaseR)} ms | | |
| overhead per phase | ${ms1(perPhaseB - perPhaseR)} ms | | |

### Where the time goes (history of the last measured pair)

${profileRows(p, c.samples.at(-1).baton, c.samples.at(-1).raw, { gap: true, cpu: c.cpu })}

${ratio <= 1.1 ? '' : chainWhy(c, p, exp)}
`;
}

function chainWhy(c, p, exp) {
  const { baton, raw } = p;
  const dGap = baton.medianGapMs - raw.medianGapMs;
  const dExec = baton.medianExecutionMs - raw.medianExecutionMs;
  const dWait = baton.medianQueueWaitMs - raw.medianQueueWaitMs;
  const markers = (baton.byType.MARKER_RECORDED ?? 0) / c.phases;
  const parts = [
    `Why: per phase, the medians from the two histories split Baton's extra time into the hand-over between
phases (phase completed → next phase scheduled: ${ms1(baton.medianGapMs)} ms against ${ms1(raw.medianGapMs)} ms, ${dGap >= 0 ? '+' : ''}${ms1(dGap)} ms), the phase
activity itself (started → completed: ${ms1(baton.medianExecutionMs)} ms against ${ms1(raw.medianExecutionMs)} ms, ${dExec >= 0 ? '+' : ''}${ms1(dExec)} ms: zod parse of the
package, secret scan, sealing with canonical JSON and sha256, three files written with temp-file-and-rename,
heartbeats) and the wait in the phase queue (${ms1(baton.medianQueueWaitMs)} ms against ${ms1(raw.medianQueueWaitMs)} ms, ${dWait >= 0 ? '+' : ''}${ms1(dWait)} ms).`,
  ];
  if (exp) {
    const st = baton.chainSteps;
    parts.push(`The hand-over is the largest part. After every phase the workflow runs the \`writeExecutionContext\`
activity (\`runPhase(driver, key).then(() => exportContext())\` in \`src/workflows/phased-run.ts\`), and the main
loop is only woken (\`changed()\` in \`.finally\`) once that export has completed, so the export and one more
workflow task sit on the critical path of every phase: ${x2(baton.workflowTasks / c.phases)} workflow tasks and ${(exp.count / c.phases).toFixed(2)} exports per
phase against ${x2(raw.workflowTasks / c.phases)} workflow tasks for the baseline.${
      st
        ? ` Split up (medians over ${st.pairs} phase pairs): phase completed → export scheduled ${ms1(st.medianToExportMs)} ms (a workflow
task), export scheduled → completed ${ms1(st.medianExportMs)} ms (it runs on the workflow's own queue, \`baton\`, so it is
dispatched eagerly), export completed → next phase scheduled ${ms1(st.medianFromExportMs)} ms (a second workflow task).`
        : ''
    } The exports also carry the whole run status (${kb(exp.eventBytes / exp.count)} KB each on average at ${c.phases} phases,
growing with every completed phase), which is most of Baton's history here (${kb(baton.bytes / c.phases)} KB per phase against
${kb(raw.bytes / c.phases)} KB).`);
  } else {
    parts.push(`Baton has ${x2(baton.workflowTasks / c.phases)} workflow tasks per phase against ${x2(raw.workflowTasks / c.phases)}${
      markers > 0
        ? `, and ${markers.toFixed(2)} local activities (\`MARKER_RECORDED\`) per phase: the \`execution_context.json\` export, which
runs inside the workflow task that schedules the next phase (\`runPhase(driver, key).then(() => exportContext())\`
and \`changed()\` in \`.finally\` in \`src/workflows/phased-run.ts\`), so it lengthens that task`
        : ''
    }: a workflow task takes ${ms1(baton.medianWorkflowTaskMs)} ms (median) against ${ms1(raw.medianWorkflowTaskMs)} ms, ${s(baton.totalWorkflowTaskMs)} s in all against ${s(raw.totalWorkflowTaskMs)} s.
History: ${kb(baton.bytes / c.phases)} KB per phase against ${kb(raw.bytes / c.phases)} KB.`);
  }
  return parts.join(' ');
}

function failureWhy(r, failed) {
  const fo = r.packageBuild.fanOut;
  const out = [];
  if (failed.some((a) => /GrpcMessageTooLarge|larger than max/.test(a.error))) {
    out.push(`\`GrpcMessageTooLarge\`: the first workflow task schedules ${fo.parallelism} phases at once, and their packages
(${kb(fo.packageBytes)} KB each for a ${fo.phases.toLocaleString('en')}-phase fan-out, measured as in 5 below; \`state_summary\` is most of it) make
${(fo.firstWorkflowTaskPackageBytes / 1024 / 1024).toFixed(2)} MiB in one \`RespondWorkflowTaskCompleted\`, over the server's 4 MiB gRPC message limit (the
worker logs \`grpc: received message after decompression larger than max 4194304\`); the worker fails the
workflow task with that cause and the server terminates the run.`);
  }
  if (failed.some((a) => /history size exceeds limit/i.test(a.error))) {
    out.push(`\`Workflow history size exceeds limit\`: the history passed the server's 50 MiB limit (see its size above), so
the server terminated the run. Its largest parts are listed in the profile of the measured size below.`);
  }
  return out.length > 0 ? `Why: ${out.join(' ')}` : '';
}

function fanOutSection(r) {
  const f = r.fanOut;
  const ratio = f.throughput.baton.median / f.throughput.raw.median;
  const attempts = r.fanOutAttempts ?? [];
  const full = r.settings.fanOutPhases;
  const fullRaw = attempts.find((a) => a.phases === full)?.raw;
  const failed = attempts.filter((a) => !a.ok);
  const lines = [`## 2. Fan-out throughput: ${full.toLocaleString('en')} independent no-op phases, parallelism ${f.parallelism}

Baton's \`max_parallel_phases\` and the baseline's number of concurrent activities (\`rawFanOut\`: ${f.parallelism}
lanes over the ${full.toLocaleString('en')} activities) are both ${f.parallelism}; both activity workers run at concurrency ${r.settings.concurrency}.`];
  if (failed.length > 0) {
    lines.push(`
### At full size Baton does not complete

Each size below was attempted once (the baseline ran a warm-up and ${r.settings.runs} times at the same size):

| phases | Baton | exact error | history of the failed run | raw baseline (median of ${r.settings.runs}) |
| --- | --- | --- | --- | --- |
${attempts
  .map((a) =>
    row([
      a.phases.toLocaleString('en'),
      a.ok ? `completed in ${s(a.batonMs)} s` : `failed after ${s(a.failedAfterMs)} s`,
      a.ok ? '' : `\`${a.error}\`${a.failureEvents?.length ? `; history: ${a.failureEvents.map((e) => `\`${e}\``).join('; ')}` : ''}`,
      a.ok ? '' : `${a.historyEvents} events, ${(a.historyBytes / 1024 / 1024).toFixed(1)} MiB, ${a.phasesScheduled} phases scheduled, ${a.phasesCompleted} completed`,
      `${s(a.raw.ms.median)} s (${a.raw.throughput.median.toFixed(0)} activities/s)`,
    ]),
  )
  .join('\n')}

${failureWhy(r, failed)}

The throughput comparison below therefore uses **${f.phases} phases** (same parallelism ${f.parallelism}), the largest
round size tried that completes; this is a smaller count than the issue asks for, forced by the failures above.`);
  }
  lines.push(`
### Throughput at ${f.phases.toLocaleString('en')} phases (${f.samples.length} measured A/B pairs after one warm-up)

| | median | min | max |
| --- | --- | --- | --- |
${statRow('Baton wall time (s)', f.baton, s)}
${statRow('raw wall time (s)', f.raw, s)}
${statRow('Baton throughput (phases/s)', f.throughput.baton, (v) => v.toFixed(1))}
${statRow('raw throughput (activities/s)', f.throughput.raw, (v) => v.toFixed(1))}
${statRow('Baton / raw throughput, per A/B pair', f.throughput.pairRatio, x2)}
${failuresNote(f)}
${[
  '| result | value | target | |',
  '| --- | --- | --- | --- |',
  `| Baton / raw throughput (medians), ${f.phases.toLocaleString('en')} phases | **${x2(ratio)}** | ≥ 0.90 | ${verdict(ratio >= 0.9)} |`,
  f.phases === full ? '' : `| at ${full.toLocaleString('en')} phases | Baton fails (above) | ≥ 0.90 | ${verdict(false)} |`,
  fullRaw && f.phases !== full ? `| raw baseline at ${full.toLocaleString('en')} phases | ${s(fullRaw.ms.median)} s, ${fullRaw.throughput.median.toFixed(0)} activities/s (min ${fullRaw.throughput.min.toFixed(0)}, max ${fullRaw.throughput.max.toFixed(0)}) | | |` : '',
]
  .filter(Boolean)
  .join('\n')}

### Where the time goes (history of the last measured pair)

${profileRows(f.profile, f.samples.at(-1).baton, f.samples.at(-1).raw, { gap: false, cpu: f.cpu })}
`);
  if (ratio < 0.9) lines.push(fanOutWhy(f, r));
  return lines.join('\n');
}

function fanOutWhy(f, r) {
  const { baton, raw } = f.profile;
  const wall = f.samples.at(-1).baton;
  const exp = baton.activities.writeExecutionContext;
  const n = f.phases;
  const parts = [];
  if (exp) {
    parts.push(`the exports of \`execution_context.json\` are chained one after another (\`exportChain\` in
\`phased-run.ts\`): ${exp.count} of them for ${n} phases here, each an activity on the \`baton\` queue carrying the whole status
(${kb(exp.eventBytes / exp.count)} KB on average), each scheduled by a workflow task after the previous one completed (median gap
${ms1(exp.medianLinkGapMs)} ms, then ${ms1(exp.medianRoundTripMs)} ms for the export itself); from the first export scheduled to the last completed
took ${s(exp.spanMs)} s of the ${s(wall)} s run, and a phase's slot is only released once its export is done.`);
  }
  const c = f.cpu;
  const batonCpu = c.batonNodeMs.median + c.batonServerMs.median;
  const share = (ms, wallMs) => `${((100 * ms) / (wallMs * r.machine.cores)).toFixed(0)}%`;
  const paced = baton.totalWorkflowTaskMs / wall;
  parts.push(`per run (medians), Baton's workers used ${s(c.batonNodeMs.median)} s of CPU and the server ${s(c.batonServerMs.median)} s, ${s(batonCpu)} s in all
during a ${s(f.baton.median)} s run (${share(batonCpu, f.baton.median)} of the machine's ${r.machine.cores} cores), against ${s(c.rawNodeMs.median)} s and ${s(c.rawServerMs.median)} s for the
baseline in ${s(f.raw.median)} s: ${ms1((c.batonNodeMs.median - c.rawNodeMs.median) / n)} ms more CPU per phase in the worker process and ${ms1((c.batonServerMs.median - c.rawServerMs.median) / n)} ms more in the server.
${batonCpu / (f.baton.median * r.machine.cores) > 0.8 ? `The machine is saturated, so throughput is set by CPU per phase: ${ms1(batonCpu / n)} ms for Baton against ${ms1((c.rawNodeMs.median + c.rawServerMs.median) / n)} ms for the baseline, a ratio of ${x2((c.rawNodeMs.median + c.rawServerMs.median) / batonCpu)}, close to the throughput ratio. The extra work is what a phase is in Baton and not in the baseline: a package built in the workflow and carried through the server (${kb(baton.bytes / n)} KB of history per phase against ${kb(raw.bytes / n)} KB), sealed, scanned for secrets and written to two files, an output committed by rename, and the run's status kept for the UI.` : ''}
In the profiled run, the workflow's ${baton.workflowTasks} tasks, which a run processes one at a time, took ${s(baton.totalWorkflowTaskMs)} s of the ${s(wall)} s
(median ${ms1(baton.medianWorkflowTaskMs)} ms each) against ${s(raw.totalWorkflowTaskMs)} s for the baseline's ${raw.workflowTasks}${
    paced > 0.6 ? `, so the run is paced by its own workflow tasks: while one is being processed, completions queue up and no new phase is scheduled` : ''
  }; phases waited ${ms1(baton.medianQueueWaitMs)} ms (median) in their queue against ${ms1(raw.medianQueueWaitMs)} ms and ran ${ms1(baton.medianExecutionMs)} ms against ${ms1(raw.medianExecutionMs)} ms.${
    baton.failedWorkflowTasks
      ? ` ${baton.failedWorkflowTasks} of Baton's workflow tasks (against ${raw.failedWorkflowTasks ?? 0} of the baseline's) ${baton.failedWorkflowTasks === 1 ? 'was' : 'were'} failed by the server: while a task is open, finishing phases are buffered, and past 100 buffered events the server force-closes the task and sends a new one, so a slow task costs twice.`
      : ''
  }`);
  const prof = r.fanOutProfile;
  if (prof?.ok) {
    const per = (ms) => (ms / (prof.runs * prof.phases)).toFixed(2);
    const rowsFor = (t) =>
      Object.entries(t.categories)
        .filter(([, ms]) => ms / (prof.runs * prof.phases) >= 0.05)
        .map(([k, ms]) => row([t.thread, k, per(ms)]))
        .join('\n');
    parts.push(`

Where the worker process's CPU goes: V8 CPU profiles of Baton's two workers alone (\`bench/profile-fanout.mjs\`:
\`node --cpu-prof\`, its own server, ${prof.runs} runs of ${prof.phases.toLocaleString('en')} phases taking ${prof.runMs.map((m) => s(m)).join(' and ')} s; the profiler adds some
overhead), self time by category:

| thread | category | CPU ms per phase |
| --- | --- | --- |
${prof.threads.map((t) => `${row([t.thread, '**all (busy)**', `**${per(t.busyMs)}**`])}\n${rowsFor(t)}`).join('\n')}

Top functions: ${prof.threads.map((t) => `${t.thread}: ${t.topFunctions.slice(0, 5).map((x) => `\`${x.fn}\` ${per(x.ms)}`).join(', ')}`).join('; ')} (ms per phase).`);
  }
  const pc = r.phaseCosts;
  if (pc) {
    parts.push(`

Outside Temporal, in plain Node (\`bench/phase-costs.mjs\`), Baton's own code costs ${pc.workflow.perPhaseMs.median.toFixed(2)} ms per phase in the
workflow's main loop at ${pc.phases.toLocaleString('en')} phases (record the completion, find the ready phases, build and serialize the next
package, the status and the UI details) and, in the activity, ${pc.activity.serialMs.median.toFixed(2)} ms per phase one at a time or
${pc.activity.concurrent.perPhaseMs.toFixed(2)} ms per phase with ${pc.parallelism} at once (\`executePhase\`: parse, scan, seal, three files written), so
${pc.workflow.perPhaseMs.median + pc.activity.concurrent.perPhaseMs < 0.5 * ((c.batonNodeMs.median - c.rawNodeMs.median) / n) ? 'most' : 'part'} of the extra CPU is what the SDK and the server do around that code: the SDK captures a stack trace
(with source-map lookups) for every promise created in workflow code, so each promise Baton's main loop
creates per phase costs CPU; payloads are encoded and decoded; and the phase worker's file writes go
through libuv's thread pool.`);
  }
  return `Why: ${parts.join(' ')}\n`;
}

function historySection(h, chain, fan) {
  const measured = h.sizes.filter((z) => z.bytes > 0);
  const perPhase = measured.map((z) => z.perPhase.median);
  // Flat: the output's size does not show in history beyond the inline budget, i.e. the 20 MB
  // outputs cost no more per phase than the 1 KB ones (which sit at the budget).
  const flat = perPhase.at(-1) <= perPhase[0] * 1.05;
  const under = perPhase.every((b) => b <= 8 * 1024);
  const control = h.sizes[0];
  return `## 3. History growth per phase, by output size

A chain of ${h.phases} \`handler\` phases, each returning one context value whose JSON is the given size (a string,
different in every run and phase); handoff files on. Bytes are
\`proto.temporal.api.history.v1.History.encode(history).finish().length\` of the whole history, divided by the
number of phases; "added" is what the output adds per phase over the control run whose phases return \`{}\`.
KB = 1,024 bytes. ${h.sizes[0].historyBytes.n} measured runs of each size (round-robin) after one warm-up round.

| output per phase | history per phase, median | min | max | added by the output, per phase | events per phase | wall time per phase |
| --- | --- | --- | --- | --- | --- | --- |
${h.sizes
  .map((z) =>
    row([
      z.label,
      `${kb(z.perPhase.median)} KB`,
      `${kb(z.perPhase.min)} KB`,
      `${kb(z.perPhase.max)} KB`,
      z.bytes === 0 ? '(control)' : `${kb(z.addedPerPhase)} KB`,
      z.eventsPerPhase.median.toFixed(1),
      `${ms1(z.wallMsPerPhase.median)} ms`,
    ]),
  )
  .join('\n')}

| target | result | |
| --- | --- | --- |
| ≤ 8 KB of history per phase (1 KB, 1 MB, 20 MB outputs) | ${measured.map((z) => `${z.label}: ${kb(z.perPhase.median)} KB`).join('; ')} | ${verdict(under)} |
| flat: a larger output costs no more history than a 1 KB one (what stays inline is capped at 1 KiB per output) | 20 MB / 1 KB: ${x2(perPhase.at(-1) / perPhase[0])}× | ${verdict(flat)} |
| large outputs kept out of history (1 MB and 20 MB add the same) | 1 MB adds ${kb(measured[1].addedPerPhase)} KB, 20 MB adds ${kb(measured[2].addedPerPhase)} KB per phase | ${verdict(Math.abs(measured[2].addedPerPhase - measured[1].addedPerPhase) < 1024 && measured[2].addedPerPhase <= 8 * 1024)} |

Where the bytes are, per phase, by event type:

${byEventTable(h)}

${historyWhy(h, chain, fan, measured, control)}
`;
}

function byEventTable(h) {
  const types = ['ACTIVITY_TASK_SCHEDULED', 'ACTIVITY_TASK_COMPLETED', 'MARKER_RECORDED', 'WORKFLOW_EXECUTION_COMPLETED'];
  const header = row(['output per phase', ...types.map((t) => t.toLowerCase().replace(/_/g, ' ')), 'all other events']);
  const lines = h.sizes.map((z) => {
    const b = z.bytesByEventType;
    const total = Object.values(b).reduce((x, y) => x + y, 0);
    const listed = types.reduce((x, t) => x + (b[t] ?? 0), 0);
    return row([z.label, ...types.map((t) => `${kb((b[t] ?? 0) / h.phases)} KB`), `${kb((total - listed) / h.phases)} KB`]);
  });
  return [header, row(Array(types.length + 2).fill('---')), ...lines].join('\n');
}

function historyWhy(h, chain, fan, measured, control) {
  const perType = (z, type) => ((z.activities[type]?.eventBytes ?? 0) / h.phases);
  const exportBytes = perType(control, 'writeExecutionContext');
  const packageBytes = perType(control, 'runPhase');
  const byRef = Math.abs(measured[2].addedPerPhase - measured[1].addedPerPhase) < 1024;
  const added = kb(measured[1].addedPerPhase) === kb(measured[2].addedPerPhase) ? kb(measured[1].addedPerPhase) : `${kb(measured[1].addedPerPhase)}–${kb(measured[2].addedPerPhase)}`;
  return `${byRef ? `Large outputs travel by reference: 1 MB and 20 MB values add the same ${added} KB per phase to history
(the \`$baton_ref\`, wherever the value would have been).` : 'Large outputs do not stay out of history: 20 MB adds more than 1 MB.'} The
fixed part: phases that return \`{}\` cost ${kb(control.perPhase.median)} KB each at ${h.phases} phases; per phase, the
\`runPhase\` activity's events (its input is the package, whose \`state_summary\` lists the plan's phases) take
${kb(packageBytes)} KB${exportBytes > 0 ? `, and the \`writeExecutionContext\` activity after every phase, carrying the whole status, ${kb(exportBytes)} KB` : ''}.
The per-phase cost also depends on the plan's size: ${kb(control.perPhase.median)} KB per no-op phase at ${h.phases} phases, ${kb(chain.profile.baton.bytes / chain.phases)} KB in the
${chain.phases}-phase chain of measurement 1, ${kb(fan.profile.baton.bytes / fan.phases)} KB in the ${fan.phases}-phase fan-out of measurement 2. A 1 KB output
stays inline (what stays inline is capped at 1 KiB per output; larger values go by reference) and is
recorded in the phase's result (activity completed), in the next package's \`dependency_contexts\`
(activity scheduled; \`previous_phase_context\` no longer travels as a second copy: the activity puts it
back)${exportBytes > 0 ? ', into every later status export' : ''} and in the run's final status (workflow execution completed), so it adds
${kb(measured[0].addedPerPhase)} KB per phase here: the most any output can add, since anything larger leaves inline values behind.
`;
}

function packageSection(p, exportsInHistory) {
  return `## 5. Building the package of a phase with ${p.dependencies.toLocaleString('en')} dependencies

In Node, outside Temporal, with the code the workflow runs: a \`RunBook\` (\`dist/workflows/run-book.js\`) for a
plan of ${p.planPhases.toLocaleString('en')} phases whose last phase depends on all the others, every dependency completed with a small
inline context, a 1 MB value by reference (\`$baton_ref\`) and an artifact reference; then
\`buildHandoffPackage\` with the book's records as the progress map. ${p.builds} timed builds (${p.builds / 20} runs of 20, after 20 warm-up builds).

| | median | min | max |
| --- | --- | --- | --- |
${statRow('`buildHandoffPackage` (ms)', p.buildMs, (v) => v.toFixed(3))}
${statRow('build + `JSON.stringify` (what the payload converter then does) (ms)', p.buildAndEncodeMs, (v) => v.toFixed(3))}

| result | value | target | |
| --- | --- | --- | --- |
| time to build the package | ${p.buildMs.median.toFixed(3)} ms (with serialization ${p.buildAndEncodeMs.median.toFixed(3)} ms) | ≤ 20 ms | ${verdict(p.buildAndEncodeMs.max <= 20 || p.buildAndEncodeMs.median <= 20)} |
| package size (JSON) | ${kb(p.packageBytes)} KB, for ${(p.referencedBytes / 1024 / 1024 / 1024).toFixed(2)} GiB of referenced values | bounded: large values by reference | ${verdict(p.packageBytes < 2 * 1024 * 1024)} |

Package size by field: ${Object.entries(p.sections)
    .filter(([, b]) => b > 1000)
    .map(([k, b]) => `\`${k}\` ${kb(b)} KB`)
    .join(', ')}. It is bounded (about ${(p.packageBytes / p.dependencies).toFixed(0)} bytes per dependency, whatever the
referenced values weigh), though at ${p.dependencies.toLocaleString('en')} dependencies it is ${p.packageBytes > 512 * 1024 ? 'over' : 'just under'} Temporal's 512 KiB payload warning
(the error is at 2 MiB). Its \`state_summary\` lists ${p.stateSummaryEntries.toLocaleString('en')} phases; in a ${p.fanOut.phases.toLocaleString('en')}-phase fan-out, where a phase has no
dependencies, a package's lists ${p.fanOut.stateSummaryEntries.toLocaleString('en')} and weighs ${kb(p.fanOut.packageBytes)} KB.

Other work the workflow does on every wake-up at this plan size (same book): \`book.status(null)\`
${p.perWakeup.statusMs.median.toFixed(3)} ms, with \`renderDetails\` ${p.perWakeup.statusAndDetailsMs.median.toFixed(3)} ms (medians); the status is ${kb(p.perWakeup.statusBytes)} KB of JSON,
which each \`execution_context.json\` export carries ${exportsInHistory ? 'into history, as the input of a `writeExecutionContext` activity' : `to the worker as the input of a local activity (not into history)${p.perWakeup.statusBytes > 512 * 1024 ? ", above the SDK's 512 KiB payload warning at this size" : ''}`}.
`;
}

function peerSection(r) {
  const peer = r.peer;
  if (!peer.ok) {
    return `## 6. A peer on this machine

Not measured: ${peer.error}
`;
  }
  const chainRatio = r.chain.baton.median / peer.chainMs.median;
  const fullFan = r.fanOutAttempts?.find((a) => a.phases === peer.fanOutPhases);
  const batonFan = r.fanOut.phases === peer.fanOutPhases ? r.fanOut.baton.median : undefined;
  return `## 6. A peer on this machine: Prefect ${peer.prefect}

Prefect 3 in ephemeral mode (no server started by hand: Prefect runs a temporary local API server with
SQLite under \`bench/.venv/prefect-home\`), default settings otherwise. Chain: a flow calling a no-op
\`@task\` ${peer.chainPhases} times in sequence; fan-out: \`noop.map(range(${peer.fanOutPhases}))\` on a \`ThreadPoolTaskRunner(max_workers=${peer.parallelism})\`.
Timed inside Python around each flow call (so excluding interpreter and import start-up), one warm-up
of each, then ${peer.chainMs.n} runs alternating chain and fan-out. It ran after the Temporal server had stopped.

| wall time (s) | median | min | max | Baton median | Baton / Prefect |
| --- | --- | --- | --- | --- | --- |
${row([`chain of ${peer.chainPhases}`, s(peer.chainMs.median), s(peer.chainMs.min), s(peer.chainMs.max), s(r.chain.baton.median), x2(chainRatio)])}
${row([
  `fan-out of ${peer.fanOutPhases.toLocaleString('en')}, parallelism ${peer.parallelism}`,
  s(peer.fanOutMs.median),
  s(peer.fanOutMs.min),
  s(peer.fanOutMs.max),
  batonFan !== undefined ? s(batonFan) : 'fails (see 2)',
  batonFan !== undefined ? x2(batonFan / peer.fanOutMs.median) : '—',
])}

For scale: the raw Temporal baseline ran the chain in ${s(r.chain.raw.median)} s${
  r.fanOut.phases === peer.fanOutPhases ? ` and the ${peer.fanOutPhases.toLocaleString('en')}-phase fan-out in ${s(r.fanOut.raw.median)} s` : fullFan ? ` and the ${peer.fanOutPhases.toLocaleString('en')}-phase fan-out in ${s(fullFan.raw.ms.median)} s` : ''
}; Prefect's fan-out throughput was ${peer.fanOutThroughput.median.toFixed(0)} tasks/s (min ${peer.fanOutThroughput.min.toFixed(0)}, max ${peer.fanOutThroughput.max.toFixed(0)}); Baton's at
${r.fanOut.phases.toLocaleString('en')} phases was ${r.fanOut.throughput.baton.median.toFixed(0)} phases/s.
${peer.chainMs.max / peer.chainMs.min > 1.5 || peer.fanOutMs.max / peer.fanOutMs.min > 1.5 ? `Prefect's times vary a lot from run to run (the same chain took from ${s(peer.chainMs.min)} to ${s(peer.chainMs.max)} s); we did not
find out why, so its min and max matter as much as its median. ` : ''}Prefect keeps no durable history of
the kind Temporal does and runs these tasks in threads of the flow's own process, so this says what an
in-process orchestrator costs on this machine, not that the two do the same job.

${peer.warnings?.length ? `Prefect's own warnings and errors during the runs: ${peer.warnings.map((w) => `\`${w.slice(0, 160)}\``).join('; ')}.\n\n` : ''}Installing it: \`python3 -m venv bench/.venv && bench/.venv/bin/pip install prefect\` installs Prefect ${peer.prefect}
with fastapi 0.165.0, with which every flow fails at start in ephemeral mode with
\`TypeError: Body() got an unexpected keyword argument 'min_items'\` (raised from
\`prefect/server/api/concurrency_limits_v2.py\`); \`bench/.venv/bin/pip install "fastapi==0.139.0"\` (the lowest
version Prefect ${peer.prefect} accepts) fixes it. The venv is not in git (\`bench/.venv/.gitignore\` holds \`*\`).
`;
}

export function renderReport(r) {
  return `# Benchmarks

Baton against the floor it runs on (the same work as plain Temporal activities on the same server and
workers), and against a peer orchestrator on the same machine. Everything below was measured by one run
of \`npm run bench\` on the machine described here; re-running it rewrites this file and
\`bench/results/latest.json\` (all raw numbers, including every history profile).

${machineSection(r)}

## How it is measured

- **Server**: a dedicated Temporal dev server, started by the harness from the binary \`bash temporal-dev.sh path\`
  gives (\`TestWorkflowEnvironment.createLocal\` with \`existing-path\`, in-memory persistence, a free
  loopback port, no UI), stopped at the end. No search attributes are registered, so Baton makes no
  search-attribute upserts here (with \`./temporal-dev.sh start\` it would, adding events).
- **Workers**: all in the benchmark's own Node process, on one \`NativeConnection\`, built from \`dist/\`:
  Baton's orchestrator worker (\`createOrchestratorWorker\`, queue \`baton\`) and phase worker
  (\`createPhaseWorker\`, class \`default\`, concurrency ${r.settings.concurrency}, handlers from \`bench/handlers.mjs\`), and the
  baseline's workflow worker (queue \`bench-raw-wf\`, SDK defaults like the orchestrator worker) and
  activity worker (queue \`bench-raw\`, \`maxConcurrentActivityTaskExecutions: ${r.settings.concurrency}\` and the same shutdown grace
  as the phase worker). The baseline's activities run on another queue than its workflow, as Baton's
  phases do, so neither gets eager activity dispatch. Only one run is in flight at a time.
- **Baton**: plans of \`handler\` phases started with \`Orchestrator.start\` and timed until \`finalStatus()\`;
  config \`{ "resource_classes": { "default": { "concurrency": ${r.settings.concurrency} } } }\` (plus \`max_parallel_phases\` for the
  fan-out), every other setting at its default: handoff packages on and written, no signing key. Each run
  gets a fresh absolute workdir under the OS temp directory, removed after the run.
- **Baseline**: \`bench/baseline-workflows.mjs\` (\`rawChain\`, \`rawFanOut\`), bundled with \`bundleWorkflowCode\`;
  activities are \`async () => ({})\`, \`startToCloseTimeout: '1 hour'\`, timed from \`client.workflow.start\` to \`result()\`.
- **CPU**: around each run, \`process.cpuUsage()\` of the benchmark process (all its threads: workflows,
  activities, client) and the server's \`utime + stime\` from \`/proc/<pid>/stat\`. The fan-out's CPU profile
  comes from a separate child process (\`bench/profile-fanout.mjs\`) with its own server, after the A/B runs.
- **Runs**: one warm-up of each side, then ${r.settings.runs} measured runs, Baton and baseline alternating (A/B/A/B);
  ratios are of the medians, with the per-pair ratios shown too. Profiles come from the histories of
  the last measured pair (\`bench/lib/history.mjs\`).

${chainSection(r.chain)}
${fanOutSection(r)}
${historySection(r.history, r.chain, r.fanOut)}
${largePlanSection(r.largePlan)}
${packageSection(r.packageBuild, Boolean(r.chain.profile.baton.activities.writeExecutionContext || r.fanOut.profile.baton.activities.writeExecutionContext))}
${peerSection(r)}
## Summary

| # | measurement | target | result | |
| --- | --- | --- | --- | --- |
${summaryRows(r).join('\n')}
`;
}

function summaryRows(r) {
  const c = r.chain;
  const f = r.fanOut;
  const chainRatio = c.baton.median / c.raw.median;
  const fanRatio = f.throughput.baton.median / f.throughput.raw.median;
  const fullFailed = (r.fanOutAttempts ?? []).some((a) => a.phases === r.settings.fanOutPhases && !a.ok);
  const h = r.history.sizes.filter((z) => z.bytes > 0);
  const per = h.map((z) => z.perPhase.median);
  const hOk = per.every((b) => b <= 8 * 1024) && per.at(-1) <= per[0] * 1.05;
  const p = r.packageBuild;
  const rows = [
    row(['1', `chain of ${c.phases}: Baton / raw`, '≤ 1.10', `${x2(chainRatio)}${c.failures?.length ? `; ${c.failures.length} Baton run(s) failed` : ''}`, verdict(chainRatio <= 1.1 && !c.failures?.length)]),
    row([
      '2',
      `fan-out of ${r.settings.fanOutPhases.toLocaleString('en')} at ${f.parallelism}: Baton / raw throughput`,
      '≥ 0.90',
      `${fullFailed ? `Baton fails at ${r.settings.fanOutPhases.toLocaleString('en')}; ${x2(fanRatio)} at ${f.phases}` : x2(fanRatio)}${f.failures?.length ? `; ${f.failures.length} Baton run(s) failed` : ''}`,
      verdict(!fullFailed && fanRatio >= 0.9),
    ]),
    row(['3', 'history per phase, 1 KB / 1 MB / 20 MB outputs', 'flat, ≤ 8 KB', per.map((b) => `${kb(b)} KB`).join(' / '), verdict(hOk)]),
    largePlanRow(r.largePlan),
    row(['5', `package of a phase with ${p.dependencies.toLocaleString('en')} dependencies`, '≤ 20 ms, bounded size', `${p.buildAndEncodeMs.median.toFixed(2)} ms, ${kb(p.packageBytes)} KB`, verdict(p.buildAndEncodeMs.median <= 20 && p.packageBytes < 2 * 1024 * 1024)]),
  ];
  if (r.peer.ok) {
    const fanPeer = f.phases === r.peer.fanOutPhases ? `; fan-out of ${r.peer.fanOutPhases.toLocaleString('en')}: ${x2(f.baton.median / r.peer.fanOutMs.median)}` : '';
    rows.push(row(['6', `Prefect ${r.peer.prefect}: Baton / Prefect wall time (medians)`, 'report', `chain of ${r.peer.chainPhases}: ${x2(c.baton.median / r.peer.chainMs.median)}${fanPeer}`, '']));
  } else {
    rows.push(row(['6', 'Prefect', 'report', 'not run', '']));
  }
  return rows;
}

function largePlanOk(l) {
  return l && l.state === 'completed' && l.completedInExport === l.phases && l.orchestrator.peakRssMiB < 1024;
}

function largePlanRow(l) {
  if (!l) return row(['4', '10,000 phases with continue-as-new', 'completes, < 1 GB', 'not run', '']);
  return row([
    '4',
    `${l.phases.toLocaleString('en')} phases (${l.layers} layers of ${l.width}) in one run`,
    'completes, < 1 GB',
    `${l.state} in ${s(l.seconds * 1000)} s over ${l.segments.count} runs; orchestrator peak ${l.orchestrator.peakRssMiB} MiB`,
    verdict(largePlanOk(l)),
  ]);
}

function largePlanSection(l) {
  if (!l) return '## 4. A 10,000-phase plan with continue-as-new\n\nNot run.\n';
  return `## 4. A ${l.phases.toLocaleString('en')}-phase plan with continue-as-new

\`bench/large-plan.mjs\`: ${l.layers} layers of ${l.width} no-op handler phases, each depending on two phases of the layer
before it (so every layer waits for the previous one), \`max_parallel_phases: ${l.parallelism}\`, started with \`Orchestrator.start\`
and timed until \`finalStatus()\`. Its own dev server (Temporal's default limits: it suggests continue-as-new at
4 Ki events or 4 MB of history), the orchestrator worker in a process of its own (\`baton worker --orchestrator\`), so
its peak resident memory (\`VmHWM\` from \`/proc/<pid>/status\`) is its alone, and the phase worker in another
(\`baton worker --class default --concurrency ${l.parallelism}\`). No \`continue_as_new_after_phases\`: the run continues as new
only when the server suggests it.

| | |
| --- | --- |
| result | ${l.state}; ${l.completedInExport.toLocaleString('en')} of ${l.phases.toLocaleString('en')} phases completed in the final \`execution_context.json\` |
| wall time | ${s(l.seconds * 1000)} s (${l.phasesPerSecond.toFixed(0)} phases/s) |
| runs in the chain | ${l.segments.count} (the status says segment ${l.segmentsFromStatus - 1}) |
| largest run's history | ${l.segments.maxEvents.toLocaleString('en')} events, ${(l.segments.maxHistoryBytes / 1024 / 1024).toFixed(1)} MB (limits: 51,200 events, 50 MB) |
| orchestrator worker peak RSS | ${l.orchestrator.peakRssMiB} MiB (${l.orchestrator.rssAtEndMiB} MiB at the end) |

How it stays within the limits: the run continues as new when \`workflowInfo().continueAsNewSuggested\`,
after the phases in flight finish (waits for agents carry over). It carries a compact plan (defaults left
out) and, per finished phase whose dependants have all finished, a tuple \`[id, state, attempts, generation,
order]\`; their full status and output go to \`archive/<run>/segment-<n>.json\` in the workdir, read back
if a later phase needs one (a retry, \`transitive_context\`) and merged into the final \`execution_context.json\`.
Pending activities stay at most \`max_parallel_phases\` (refused above Temporal's 2,000 up front). The result and
the \`status\` query drop finished phases' details, then their entries (\`omitted_phases\`), to stay under
1 MiB.
`;
}
