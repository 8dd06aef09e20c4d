/**
 * Signal input arrives as raw JSON (from the Web UI's dialog, `temporal workflow signal`, scripts),
 * so it is parsed, and a bad one becomes a notice in the status rather than a failed workflow task.
 */
import { z } from 'zod';
import { zodProblems } from '../plan/problems.js';
import { PhaseIdSchema } from '../plan/schema.js';
import type { RetryPhaseRequest } from '../api/definitions.js';

const RetryPhaseRequestSchema = z
  .object({
    phase: PhaseIdSchema,
    downstream: z.boolean().optional(),
    refresh: z.boolean().optional(),
    resource_class: z.string().min(1).optional(),
    timeout_s: z.number().positive().optional(),
    retries: z.number().int().nonnegative().optional(),
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export function parseRetryRequest(raw: unknown): RetryPhaseRequest | { error: string } {
  const parsed = RetryPhaseRequestSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  return {
    error: `retryPhase: ${zodProblems(parsed.error).join('; ')}; expected {"phase": <id>, "downstream"?: bool, "refresh"?: bool, "resource_class"?: "...", "timeout_s"?: n, "retries"?: n, "config"?: {...}}, got ${JSON.stringify(raw) ?? 'nothing'}`,
  };
}
