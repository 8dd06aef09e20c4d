/**
 * Baton's limits at every door: the workflow input (plan, config, reused outputs), every signal,
 * update and agent result, and what a run keeps in its state (notices, errors, the status). Each
 * is well inside Temporal's own (2 MiB per payload, 4 MiB per gRPC message, 10,000 signals and
 * 2,000 updates per execution, 50 MiB of history), so nothing a user sends can make a run's
 * workflow tasks fail: what is over a limit is refused, with the limit and what to do, before
 * anything is recorded; what a run keeps is cut to size, its start kept.
 *
 * Pure (the workflow checks its input and messages with these): sizes are measured by walking the
 * value with a stack of its own, never by JSON.stringify, which overflows the call stack on input
 * a few thousand levels deep.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const DAY_S = 24 * 3600;

export const LIMITS = {
  /** The workflow input less a continued run's state: the plan (compacted), the config and `resume`. */
  runInputBytes: MiB,
  /** Phases in one plan. */
  phases: 10_000,
  /** Levels of nesting of any JSON a user sends (global_context, a config, an output, a message). */
  depth: 64,
  /** `global_context`: it travels in every phase's package. */
  globalContextBytes: 64 * KiB,
  /** One phase's `config` (or a retryPhase's `config` override), and its `output_schema`. */
  phaseConfigBytes: 64 * KiB,
  /** Names of the plan and its phases, and handler names. */
  nameChars: 200,
  descriptionChars: 2_000,
  /** Paths: workdir, base_dir, a shared artifact's. */
  pathChars: 4_096,
  /** Items of an argv (command, compensate), and the characters of each. */
  argvItems: 1_000,
  argvItemChars: 16 * KiB,
  /** A phase's dependencies, the plan's shared artifacts, safe keys and the config's resource classes. */
  dependencies: 1_000,
  sharedArtifacts: 1_000,
  safeKeys: 1_000,
  resourceClasses: 100,
  /** Seconds: a phase's (or class's, or the default) timeout per attempt. */
  timeoutS: { min: 1, max: 30 * DAY_S },
  /** Seconds an external agent has to report. */
  agentTimeoutS: { min: 1, max: 365 * DAY_S },
  /** Seconds without a heartbeat before a worker counts as lost. */
  heartbeatTimeoutS: { min: 1, max: DAY_S },
  /** `retries` (phase, class, default) and `worker_loss_retries`: a phase activity gets retries + 1 + worker_loss_retries attempts. */
  retries: 100,
  workerLossRetries: 100,
  /** A class's worker concurrency. */
  concurrency: 1_000,
  continueAsNewAfterPhases: 100_000,
  /** A signal's or executePhase's payload. */
  messageBytes: 64 * KiB,
  /** An agent's progress message. */
  progressChars: 1_000,
  /** An agent's result (completePhase), whole; its inline context has its own limit (256 KiB). */
  resultBytes: 512 * KiB,
  /** The `error` of an agent's failed result. */
  resultErrorChars: 64 * KiB,
  /** Artifacts one output or result may name. */
  artifacts: 1_000,
  /** Notices a run keeps (the latest), and the characters of each. */
  notices: 100,
  noticeChars: 1_000,
  /** A phase's error (or rollback error, or fallback reason) as the run keeps it: its start. */
  errorChars: 4_000,
  /** What a refusal quotes of the payload it refused. */
  quoteChars: 200,
  /** `status` and the workflow's result; the memo gets less (it is shown on every UI page of the run). */
  statusBytes: MiB,
  memoBytes: 256 * KiB,
  /** One page of the `phases` query: at most this many phases, and this many bytes. */
  pagePhases: 1_000,
  pageBytes: 512 * KiB,
  /** Temporal's own, on default settings: signals and updates one execution takes (a run that continues as new starts again). */
  temporalSignalsPerExecution: 10_000,
  temporalUpdatesPerExecution: 2_000,
  /** Temporal's own: one payload, and one gRPC message. */
  temporalPayloadBytes: 2 * MiB,
  temporalGrpcMessageBytes: 4 * MiB,
} as const;

/** How a JSON value measures: its size as UTF-8 JSON, how deep it nests, and where it first goes too deep. */
export interface JsonMeasure {
  /** Bytes of its JSON (compact, UTF-8); a lower bound when the walk stopped early. */
  bytes: number;
  depth: number;
  /** The path (from the value) to the first place nested deeper than `maxDepth`, when there is one. */
  tooDeepAt?: Array<string | number>;
  /** The walk stopped once it passed `stopAtBytes`: `bytes` is at least that. */
  stopped: boolean;
}

/**
 * Measures a JSON value without recursion: a value nested 100,000 levels deep costs no stack. The
 * walk stops early past `stopAtBytes` (what is over a limit need not be measured whole) and does
 * not go below `maxDepth`.
 */
export function measureJson(value: unknown, opts: { maxDepth?: number; stopAtBytes?: number } = {}): JsonMeasure {
  const maxDepth = opts.maxDepth ?? LIMITS.depth;
  const stopAt = opts.stopAtBytes ?? Number.POSITIVE_INFINITY;
  let bytes = 0;
  let depth = 0;
  let tooDeepAt: Array<string | number> | undefined;
  // Each frame: a value, its depth, and the path to it as a chain (so deep input costs no more than its size).
  type Path = { seg: string | number; parent: Path | null } | null;
  const stack: Array<{ value: unknown; level: number; path: Path }> = [{ value, level: 0, path: null }];
  while (stack.length > 0) {
    if (bytes > stopAt) return { bytes, depth, ...(tooDeepAt ? { tooDeepAt } : {}), stopped: true };
    const { value: v, level, path } = stack.pop()!;
    if (v === null || v === undefined) {
      bytes += 4;
    } else if (typeof v === 'string') {
      bytes += jsonStringBytes(v);
    } else if (typeof v === 'number') {
      bytes += String(v).length;
    } else if (typeof v === 'boolean') {
      bytes += v ? 4 : 5;
    } else if (typeof v === 'object') {
      const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((item, i) => [i, item]) : Object.entries(v as Record<string, unknown>);
      const level1 = level + 1;
      if (level1 > depth) depth = level1;
      bytes += 2 + Math.max(0, entries.length - 1);
      if (level1 > maxDepth) {
        tooDeepAt ??= pathOf(path);
        continue;
      }
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i]!;
        if (typeof key === 'string') bytes += jsonStringBytes(key) + 1;
        stack.push({ value: item, level: level1, path: { seg: key, parent: path } });
      }
    } else {
      bytes += 4; // functions, symbols: not JSON; the schemas refuse them
    }
  }
  return { bytes, depth, ...(tooDeepAt ? { tooDeepAt } : {}), stopped: false };

  function pathOf(p: Path): Array<string | number> {
    const segs: Array<string | number> = [];
    for (let at = p; at; at = at.parent) segs.push(at.seg);
    return segs.reverse();
  }
}

/** Bytes of a string as a JSON string in UTF-8: its quotes and escapes included. */
function jsonStringBytes(s: string): number {
  let escapes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c === 0x08 || c === 0x0c || c === 0x0a || c === 0x0d || c === 0x09) escapes += 1;
    else if (c < 0x20) escapes += 5;
  }
  return utf8Length(s) + escapes + 2;
}

/** Bytes of a string as UTF-8, counted without an encoder. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** `1,048,576 bytes (1 MiB)`, `65,536 bytes (64 KiB)`, `700 bytes`. */
export function bytesText(n: number): string {
  const exact = `${countText(n)} bytes`;
  if (n >= MiB && n % (MiB / 4) === 0) return `${exact} (${n / MiB} MiB)`;
  if (n >= KiB && n % KiB === 0) return `${exact} (${n / KiB} KiB)`;
  return exact;
}

/** `1,234,567`. */
export function countText(n: number): string {
  // By hand rather than toLocaleString: the same digits wherever the workflow runs.
  const [whole, fraction] = String(n).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/**
 * A text cut to `max` characters, its start kept, saying how long it was: what a run keeps of a
 * long error or notice.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = ` … [cut: ${countText(text.length)} characters in all]`;
  let start = text.slice(0, Math.max(0, max - note.length));
  if (/[\uD800-\uDBFF]$/.test(start)) start = start.slice(0, -1); // not half a character
  return `${start}${note}`;
}

/**
 * What a refusal shows of a payload: its JSON when short, else its start and its size; never
 * JSON.stringify on something too deep for it.
 */
export function excerpt(raw: unknown, max: number = LIMITS.quoteChars): string {
  if (raw === undefined) return 'nothing';
  const measured = measureJson(raw, { stopAtBytes: 64 * MiB });
  if (measured.tooDeepAt) return `a value nested more than ${LIMITS.depth} levels deep`;
  let text: string;
  try {
    text = JSON.stringify(raw) ?? 'nothing';
  } catch {
    return 'a value that is not JSON';
  }
  if (text.length <= max) return text;
  let start = text.slice(0, max);
  if (/[\uD800-\uDBFF]$/.test(start)) start = start.slice(0, -1);
  return `${start}… (${bytesText(measured.bytes)} in all)`;
}

/** A path as problems print it: `global_context.a.a[2]`, shortened in the middle when long. */
export function pathText(root: string, path: ReadonlyArray<string | number>, maxSegments = 8): string {
  const seg = (s: string | number): string => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`);
  const shown = path.length <= maxSegments ? path.map(seg).join('') : `${path.slice(0, maxSegments - 2).map(seg).join('')}…${path.slice(-2).map(seg).join('')}`;
  const joined = `${root}${shown}`.replace('….', '…');
  return joined.startsWith('.') ? joined.slice(1) : joined || '(top level)';
}
