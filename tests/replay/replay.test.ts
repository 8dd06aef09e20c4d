/**
 * Replays recorded histories of real runs against the workflow code as it is now. A change that
 * would break runs in flight (a different sequence of commands for the same history) fails here;
 * such a change needs `patched()`. Record new histories with `node scripts/record-histories.mjs`.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';

const DIR = fileURLToPath(new URL('../histories', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/workflow-bundle.js', import.meta.url));

const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();

interface RecordedHistory {
  events: Array<{
    workflowExecutionStartedEventAttributes?: { originalExecutionRunId?: string };
    workflowTaskFailedEventAttributes?: { cause?: string; newRunId?: string };
  }>;
}

/**
 * The standalone replayer takes the start event's run id (originalExecutionRunId) for the run's id.
 * A run made by a Reset copied its start event from the run it replaced, so a worker replaying it
 * live knows a run id the start event does not: put that one (the last reset's new run) there, as
 * the workflow then sees what it saw when it ran (see isResetRun in src/core/workflows/behaviour.ts).
 */
function asReplayedLive(json: RecordedHistory): RecordedHistory {
  const resets = json.events.filter((e) => e.workflowTaskFailedEventAttributes?.cause === 'WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW');
  const runId = resets.at(-1)?.workflowTaskFailedEventAttributes?.newRunId;
  const started = json.events[0]?.workflowExecutionStartedEventAttributes;
  if (runId && started) started.originalExecutionRunId = runId;
  return json;
}

describe('replaying recorded histories', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it('fails on a history the code did not make (so a breaking change cannot pass)', async () => {
    const json = JSON.parse(await readFile(path.join(DIR, 'consolidation.json'), 'utf8')) as { events: Array<Record<string, { activityType?: { name: string } }>> };
    const scheduled = json.events.find((e) => e.activityTaskScheduledEventAttributes)!;
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'someOtherActivity';
    await expect(
      Worker.runReplayHistory({ workflowBundle: { codePath: BUNDLE }, replayName: 'tampered' }, historyFromJSON(json), 'history-consolidation'),
    ).rejects.toThrow(/[Nn]ondetermin/);
  }, 60_000);

  for (const file of files) {
    it(`replays ${file} deterministically`, async () => {
      const history = historyFromJSON(asReplayedLive(JSON.parse(await readFile(path.join(DIR, file), 'utf8')) as RecordedHistory));
      // The workflow id is the run's execution_id, which the workflow checks results against: replay under the recorded one
      // (<name>.<variant>.json was recorded as history-<name>).
      const workflowId = `history-${path.basename(file, '.json').split('.')[0]!}`;
      await Worker.runReplayHistory({ workflowBundle: { codePath: BUNDLE }, replayName: file }, history, workflowId);
    }, 60_000);
  }
});
