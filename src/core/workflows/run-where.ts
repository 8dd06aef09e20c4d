/**
 * Where a run's files are: its workdir (relative to base_dir when relative), and its store when its
 * config names one (`store`; otherwise each machine's BATON_STORE, or none), passed to the
 * orchestrator's activities that read or write them.
 */
export interface RunWhere {
  workdir: string;
  baseDir: string | null;
  store?: string;
}

/** The run's store (of its `where`, or its config) as the last argument of an activity that takes one: nothing when the config names none. */
export function storeArg(holder: { store?: string | undefined }): [] | [string] {
  return holder.store ? [holder.store] : [];
}
