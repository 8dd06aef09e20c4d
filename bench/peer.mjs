// Measurement 6: a peer orchestrator on this machine. Prefect 3 in bench/.venv (made by hand
// beforehand, see BENCHMARKS.md; nothing is installed or downloaded here), bounded in time.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './lib/env.mjs';
import { stats } from './lib/runs.mjs';

const VENV = path.join(ROOT, 'bench/.venv');
const PYTHON = path.join(VENV, 'bin/python');

function peerEnv() {
  return {
    ...process.env,
    PREFECT_HOME: path.join(VENV, 'prefect-home'),
    PREFECT_LOGGING_LEVEL: 'WARNING',
    PREFECT_SERVER_ANALYTICS_ENABLED: 'false',
    DO_NOT_TRACK: '1',
  };
}

async function versions() {
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', 'import prefect, fastapi, sys; print(prefect.__version__, fastapi.__version__, sys.version.split()[0])'], { env: peerEnv() });
  const [prefect, fastapi, python] = stdout.trim().split(' ');
  return { prefect, fastapi, python };
}

export async function prefectPeer({ log, chain, fanOut, parallelism, runs, timeoutMs }) {
  if (!existsSync(PYTHON)) {
    return { ok: false, error: `no Prefect venv at ${VENV}: make it with python3 -m venv bench/.venv && bench/.venv/bin/pip install prefect "fastapi==0.139.0"` };
  }
  await mkdir(peerEnv().PREFECT_HOME, { recursive: true });
  const info = await versions();
  log(`prefect ${info.prefect} (fastapi ${info.fastapi}, Python ${info.python}): chain ${chain}, fan-out ${fanOut} x${parallelism}, ${runs} runs`);
  const script = path.join(ROOT, 'bench/peer/prefect_bench.py');
  const child = spawn(PYTHON, [script, String(chain), String(fanOut), String(parallelism), String(runs)], { env: peerEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    for (const line of String(d).split('\n')) if (line.startsWith('prefect ')) log(line);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise((resolve) => child.once('exit', (c, signal) => resolve(c ?? signal)));
  clearTimeout(timer);
  const line = stdout.trim().split('\n').at(-1);
  if (code !== 0 || !line?.startsWith('{')) {
    return { ok: false, ...info, error: `exit ${code}${code === 'SIGKILL' ? ` (over the ${timeoutMs / 1000}s limit)` : ''}: ${stderr.trim().split('\n').slice(-5).join(' | ')}` };
  }
  const data = JSON.parse(line);
  // Prefect's own warnings say what it was busy with (its background event processing, say).
  const warnings = [...new Set(stderr.split('\n').filter((l) => /\| (WARNING|ERROR) /.test(l)).map((l) => l.replace(/^[\d:.]+ \| /, '').replace(/\d+ items/, 'N items')))].slice(0, 4);
  const toMs = (xs) => xs.map((s) => s * 1000);
  return {
    ok: true,
    ...info,
    chainPhases: chain,
    fanOutPhases: fanOut,
    parallelism,
    warmupMs: { chain: data.warmup.chain * 1000, fanOut: data.warmup.fanout * 1000 },
    chainMs: stats(toMs(data.chain)),
    fanOutMs: stats(toMs(data.fanout)),
    fanOutThroughput: stats(data.fanout.map((s) => fanOut / s)),
    warnings,
  };
}
