/**
 * The messages between runCommand and the command guardian it forks, over the guardian's IPC
 * channel. Types only, so the guardian loads nothing but node builtins.
 */

/** To the guardian. */
export type ToGuardian =
  /** Start the command. Sent once; env and argv go over the channel, not the guardian's argv, so they never show in `ps`. */
  | {
      type: 'run';
      argv: string[];
      cwd: string;
      /** The command's environment; it carries `mark` as BATON_COMMAND_MARK. */
      env: NodeJS.ProcessEnv;
      graceMs: number;
      /** Unique to this command: what it leaves running is found by it (process-tree.ts). */
      mark: string;
      /** Where the command's stdout and stderr go, each kept to maxBytes (capped-log.ts). */
      logs: { stdout: string; stderr: string; maxBytes: number };
    }
  /** The phase was cancelled: SIGTERM the command's process tree, SIGKILL it after graceMs. */
  | { type: 'terminate' };

/** From the guardian. */
export type FromGuardian =
  /** The command is running as the leader of its own process group, whose id is pid. */
  | { type: 'started'; pid: number }
  /**
   * The command ended, everything it started has ended, and its logs are complete. `leftovers`: how
   * many processes it left running when it exited by itself (they were ended; its stderr log says which).
   */
  | { type: 'exit'; exitCode: number | null; signal: NodeJS.Signals | null; leftovers?: number }
  /** The command could not be started (spawn's error: ENOENT for a missing program, EACCES, …). */
  | { type: 'error'; message: string; code?: string; errno?: number; syscall?: string; path?: string };
