/**
 * The messages between runCommand and the command guardian it forks, over the guardian's IPC
 * channel. Types only, so the guardian loads nothing but node:child_process.
 */

/** To the guardian. */
export type ToGuardian =
  /** Start the command. Sent once; env and argv go over the channel, not the guardian's argv, so they never show in `ps`. */
  | { type: 'run'; argv: string[]; cwd: string; env: NodeJS.ProcessEnv; graceMs: number }
  /** The phase was cancelled: SIGTERM the command's process group, SIGKILL it after graceMs. */
  | { type: 'terminate' };

/** From the guardian. */
export type FromGuardian =
  /** The command is running as the leader of its own process group, whose id is pid. */
  | { type: 'started'; pid: number }
  | { type: 'exit'; exitCode: number | null; signal: NodeJS.Signals | null }
  /** The command could not be started (spawn's error: ENOENT for a missing program, EACCES, …). */
  | { type: 'error'; message: string; code?: string; errno?: number; syscall?: string; path?: string };
