/**
 * The integration tests' S3 server: one Versity S3 gateway (tests/support/s3-server.ts), started
 * before the first file and stopped after the last. global-setup.ts runs this beside the Temporal
 * dev server (so the integration project in vitest.config.ts names only that one file); it can
 * also be a globalSetup file of its own. When the server cannot be had (no Go to build it, say),
 * the tests that use it fail with the reason and what to do (`s3Problem`); the others run.
 */
import type { TestProject } from 'vitest/node';
import { S3_DEV_CREDENTIALS, S3_DEV_REGION, s3ServerBinary, startS3Server, type S3Server } from './s3-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The S3 server's endpoint (`http://127.0.0.1:<port>`); empty when there is none (see s3Problem). */
    s3Endpoint: string;
    /** A bucket that exists on it. */
    s3Bucket: string;
    /** The directory the server keeps objects in: `<s3DataDir>/<bucket>/<key>`. */
    s3DataDir: string;
    s3AccessKeyId: string;
    s3SecretAccessKey: string;
    s3Region: string;
    /** Why there is no S3 server: what scripts/s3-dev.sh or the server said, with what to do. */
    s3Problem: string;
  }
}

let server: S3Server | undefined;

/** Never rejects: what went wrong is provided as `s3Problem`. */
export async function setup(project: TestProject): Promise<void> {
  const binary = await s3ServerBinary();
  let problem = binary.problem;
  if (binary.path) {
    try {
      server = await startS3Server(binary.path);
    } catch (err) {
      problem = (err as Error).message;
    }
  }
  project.provide('s3Endpoint', server?.endpoint ?? '');
  project.provide('s3Bucket', server?.bucket ?? '');
  project.provide('s3DataDir', server?.dataDir ?? '');
  project.provide('s3AccessKeyId', S3_DEV_CREDENTIALS.accessKeyId);
  project.provide('s3SecretAccessKey', S3_DEV_CREDENTIALS.secretAccessKey);
  project.provide('s3Region', S3_DEV_REGION);
  project.provide('s3Problem', problem);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
}
