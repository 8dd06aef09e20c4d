/**
 * Phases written as TypeScript functions and registered with a worker by name.
 */
import type { HandoffPackage, PhaseOutputFile } from '../core/handoff/schema.js';

export interface PhaseHandlerContext {
  handoff: HandoffPackage;
  workdir: string;
  attempt: number;
  /** Aborted when Temporal cancels the phase; pass it on to long operations. */
  signal: AbortSignal;
  heartbeat(details?: unknown): void;
}

export type PhaseHandler = (ctx: PhaseHandlerContext) => Promise<Partial<PhaseOutputFile> | void> | Partial<PhaseOutputFile> | void;

export type PhaseHandlers = Record<string, PhaseHandler>;
