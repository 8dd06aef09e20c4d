// The workflow bundle's entry: every workflow type Baton registers.
export { phasedRun } from './phased-run.js';
