/**
 * Turning the artifact paths a phase reports into references (path, sha256, size).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ArtifactRef } from '../core/handoff/schema.js';
import { confinedPath } from './paths.js';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function artifactRefs(workdir: string, artifacts: Record<string, string>): Promise<Record<string, ArtifactRef>> {
  const refs: Record<string, ArtifactRef> = {};
  for (const [name, relative] of Object.entries(artifacts)) {
    const file = confinedPath(workdir, relative);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new Error(`artifact "${name}" points at ${relative}, which is not a file in the workdir`);
    refs[name] = { path: relative, sha256: await sha256File(file), size: info.size };
  }
  return refs;
}
