export * from './schema.js';
export * from './graph.js';
export * from './problems.js';
export * from './validate.js';
export * from './phase-settings.js';
