// Phase 12, on the `gpu` resource class: a CPU micro-benchmark (sha256 over every file of the
// inventory, several rounds) and whether this machine sees a GPU.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fail, runPhase } from './lib/handoff.mjs';
import { readInventory } from './lib/repo.mjs';

await runPhase({ needs: [0, 11] }, async (phase) => {
  const minRounds = phase.setting('rounds', 3, { min: 1 });
  // Small repositories hash in microseconds; repeat until this much is hashed so the timing means something.
  const minMegabytes = phase.setting('min_megabytes', 64);
  const requireGpu = phase.setting('require_gpu', false);
  const repo = phase.repo;
  const report = phase.previous.context; // the final report (11), its only dependency

  const buffers = [];
  for (const file of readInventory(phase)) {
    try {
      buffers.push(readFileSync(path.join(repo, file.path)));
    } catch {
      // removed since discovery
    }
  }
  const bytes = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
  if (bytes === 0) fail('the inventory has no readable bytes to hash');
  const rounds = Math.min(10_000, Math.max(minRounds, Math.ceil((minMegabytes * 1e6) / bytes)));

  const started = performance.now();
  for (let round = 0; round < rounds; round += 1) {
    for (const buffer of buffers) createHash('sha256').update(buffer).digest();
  }
  const seconds = (performance.now() - started) / 1000;
  const throughput = Math.round((bytes * rounds) / 1e6 / seconds);

  const gpu = detectGpu();
  if (requireGpu && !gpu.visible) fail('require_gpu is set but no GPU is visible (nvidia-smi missing or failing)');
  phase.writeJsonArtifact('benchmark', 'benchmark.json', {
    files: buffers.length,
    bytes_per_round: bytes,
    rounds,
    seconds: Number(seconds.toFixed(4)),
    throughput_mb_s: throughput,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    gpu,
    report_status: report.status,
  });
  return {
    throughput_mb_s: throughput,
    gpu_visible: gpu.visible,
    gpus: gpu.devices.length,
    rounds,
    bytes_hashed: bytes * rounds,
  };
});

function detectGpu() {
  const tool = findOnPath('nvidia-smi');
  if (!tool) return { visible: false, tool: null, devices: [] };
  const result = spawnSync(tool, ['-L'], { encoding: 'utf8', timeout: 5000 });
  const devices = result.status === 0 ? result.stdout.split('\n').filter((line) => line.startsWith('GPU ')) : [];
  return { visible: devices.length > 0, tool, devices };
}

function findOnPath(command) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
