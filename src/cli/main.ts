#!/usr/bin/env node
/**
 * The `baton` command. Connection settings come from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE
 * (and the rest of Temporal's standard environment).
 */
import { Command } from 'commander';
import { registerAgent } from './commands/agent.js';
import { registerDoctor } from './commands/doctor.js';
import { registerExecutePhase } from './commands/execute-phase.js';
import { registerGc } from './commands/gc.js';
import { registerHandoff } from './commands/handoff.js';
import { registerHistory } from './commands/history.js';
import { registerKeygen } from './commands/keygen.js';
import { registerMcp } from './commands/mcp.js';
import { registerOperate } from './commands/operate.js';
import { registerQueues } from './commands/queues.js';
import { registerReset } from './commands/reset.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerSubmit } from './commands/submit.js';
import { registerUi } from './commands/ui.js';
import { registerWorker } from './commands/worker.js';
import { reportAndExit } from './errors.js';

const program = new Command()
  .name('baton')
  .description('Durable multi-phase runs with context handoffs between agents, on Temporal')
  .showHelpAfterError();

registerRun(program);
registerStatus(program);
registerOperate(program);
registerReset(program);
registerWorker(program);
registerExecutePhase(program);
registerHandoff(program);
registerSubmit(program);
registerAgent(program);
registerMcp(program);
registerHistory(program);
registerQueues(program);
registerDoctor(program);
registerGc(program);
registerKeygen(program);
registerUi(program);

program.parseAsync(process.argv).catch(reportAndExit);
