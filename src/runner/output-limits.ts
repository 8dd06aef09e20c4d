/**
 * What a phase may report, and how its BATON_OUTPUT file is read: bounded, UTF-8, checked before
 * anything of it is stored or committed. Each refusal names the limit and what to do instead.
 */
import { isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import type { FailureType } from '../core/api/failures.js';
import type { PhaseContext, PhaseOutputFile } from '../core/handoff/schema.js';
import { formatBytes } from './capped-log.js';
import { GROUP_KEY } from './context-store.js';
import { PhaseExecutionError } from './phase-error.js';
import { firstInvalidUtf8 } from './utf8.js';

/** The BATON_OUTPUT file: read whole, so bounded. Large data belongs in an artifact. */
export const MAX_OUTPUT_FILE_BYTES = 64 * 1024 * 1024;
/** Top-level keys of an output's context (those that do not stay inline are stored as one value). */
export const MAX_CONTEXT_KEYS = 100_000;
/** Artifacts of one output: each travels inline, by reference (path, sha256, size), in history. */
export const MAX_ARTIFACTS = 1_000;
/** An artifact's name. */
export const MAX_ARTIFACT_NAME_BYTES = 1024;
/**
 * What the phase reports, as it travels (inline context, references, artifact references): it is
 * recorded in history with the phase's result, each dependant's package and the run's status.
 */
export const MAX_REPORT_BYTES = 256 * 1024;

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The text of what a command wrote to BATON_OUTPUT, or null when it wrote nothing (an output is
 * optional). A UTF-8 byte-order mark is dropped; bytes that are not UTF-8 are refused with where
 * they are, never turned into U+FFFD; a file over MAX_OUTPUT_FILE_BYTES is refused unread.
 */
export async function readOutputText(file: string, where: string): Promise<string | null> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new PhaseExecutionError('InvalidPhaseOutput', `${where}, which cannot be read (${(err as Error).message})`);
  }
  let bytes: Buffer;
  try {
    const { size } = await fh.stat();
    if (size > MAX_OUTPUT_FILE_BYTES) {
      throw new PhaseExecutionError(
        'InvalidPhaseOutput',
        `${where}, which is ${size.toLocaleString('en-US')} bytes, over the ${formatBytes(MAX_OUTPUT_FILE_BYTES)} an output file may be: write large data to a file in the workdir and report it as an artifact`,
      );
    }
    bytes = await fh.readFile();
  } finally {
    await fh.close();
  }
  const body = bytes.subarray(0, 3).equals(BOM) ? bytes.subarray(3) : bytes;
  if (!isUtf8(body)) {
    const at = firstInvalidUtf8(body);
    const offset = at + (body === bytes ? 0 : 3);
    const line = 1 + body.subarray(0, at).filter((b) => b === 0x0a).length;
    throw new PhaseExecutionError(
      'InvalidPhaseOutput',
      `${where}, which is not UTF-8: byte 0x${body[at]!.toString(16).padStart(2, '0')} at offset ${offset} (line ${line}) does not begin a valid UTF-8 character; write the output as UTF-8 (JSON is UTF-8: Latin-1 and other 8-bit encodings are not)`,
    );
  }
  return body.toString('utf8');
}

/** Counts and names, before anything else is done with the output. */
export function checkOutputShape(output: PhaseOutputFile, label: string, type: FailureType): void {
  const keys = Object.keys(output.context).length;
  if (keys > MAX_CONTEXT_KEYS) {
    throw new PhaseExecutionError(type, `${label} reported ${keys.toLocaleString('en-US')} context keys, over the limit of ${MAX_CONTEXT_KEYS.toLocaleString('en-US')}: nest them under fewer keys, or write them to a file and report it as an artifact`);
  }
  if (Object.hasOwn(output.context, GROUP_KEY)) {
    throw new PhaseExecutionError(type, `${label} reported a context key "${GROUP_KEY}", which is Baton's own (it holds the keys of a large output by reference): name it otherwise`);
  }
  const names = Object.keys(output.artifacts);
  if (names.length > MAX_ARTIFACTS) {
    throw new PhaseExecutionError(type, `${label} reported ${names.length.toLocaleString('en-US')} artifacts, over the limit of ${MAX_ARTIFACTS.toLocaleString('en-US')}: report a directory's archive or an index file instead`);
  }
  for (const name of names) {
    const bytes = Buffer.byteLength(name);
    if (bytes > MAX_ARTIFACT_NAME_BYTES) {
      throw new PhaseExecutionError(type, `${label} reported an artifact name of ${bytes.toLocaleString('en-US')} bytes, over the limit of ${MAX_ARTIFACT_NAME_BYTES.toLocaleString('en-US')} bytes`);
    }
  }
}

/** The report as it will travel, before anything of it is stored or committed. */
export function checkReportSize(report: PhaseContext, label: string, type: FailureType): void {
  const bytes = Buffer.byteLength(JSON.stringify(report));
  if (bytes > MAX_REPORT_BYTES) {
    throw new PhaseExecutionError(
      type,
      `${label} reported an output of ${bytes.toLocaleString('en-US')} bytes as it would be recorded (inline context, references and artifact references), over the limit of ${formatBytes(MAX_REPORT_BYTES)}: report fewer or shorter artifact names and paths`,
    );
  }
}
