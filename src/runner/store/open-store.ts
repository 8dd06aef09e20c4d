/**
 * Choosing the store: `BATON_STORE` (or a location given in code) is a directory, `file:///dir`,
 * or `s3://bucket/prefix`; unset, the caller's default directory (the run's workdir, for the
 * embedded default). For S3, `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, names another
 * provider's endpoint; `AWS_REGION` the region.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StoreError } from './errors.js';
import { FilesystemStore } from './fs-store.js';
import { S3Store, type S3StoreOptions } from './s3-store.js';
import type { Store } from './store.js';

export type StoreLocation = { kind: 'filesystem'; directory: string } | { kind: 's3'; bucket: string; prefix: string };

const FORMS = 'BATON_STORE takes a directory (/srv/baton-store, or file:///srv/baton-store) or s3://bucket/prefix';

/** Reads a location; a relative directory is taken relative to `cwd`. */
export function parseStoreLocation(text: string, cwd = process.cwd()): StoreLocation {
  const value = text.trim();
  if (value === '') throw new StoreError('invalid-location', 'the store location is empty', FORMS);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'filesystem', directory: path.resolve(cwd, value) };
  if (scheme === 'file') {
    try {
      return { kind: 'filesystem', directory: fileURLToPath(value) };
    } catch (err) {
      throw new StoreError('invalid-location', `${value} is not a file URL Baton can use (${(err as Error).message})`, FORMS);
    }
  }
  if (scheme === 's3') return parseS3(value);
  const hint: Record<string, string> = {
    gs: "for Google Cloud Storage, use its S3-compatible API: BATON_STORE=s3://bucket with AWS_ENDPOINT_URL_S3=https://storage.googleapis.com and an HMAC key as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
    http: 'an endpoint goes in AWS_ENDPOINT_URL_S3, and the bucket in BATON_STORE=s3://bucket/prefix',
    https: 'an endpoint goes in AWS_ENDPOINT_URL_S3, and the bucket in BATON_STORE=s3://bucket/prefix',
    s3a: 'write s3:// (Hadoop\'s s3a:// names the same buckets)',
  };
  throw new StoreError('invalid-location', `BATON_STORE is ${value}, whose scheme ${scheme}:// Baton does not know`, hint[scheme] ?? FORMS);
}

function parseS3(value: string): StoreLocation {
  const rest = value.slice('s3://'.length);
  if (/[?#]/.test(rest)) throw new StoreError('invalid-location', `${value} has a query or fragment`, 'write s3://bucket/prefix, with settings in the AWS_* variables');
  const [bucket = '', ...parts] = rest.split('/');
  // Bucket names: 3 to 63 characters; AWS's rules are stricter (lowercase), but other services differ.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$/.test(bucket)) {
    throw new StoreError('invalid-location', `${value} does not start with a bucket name (3 to 63 letters, digits, '.', '-' or '_'), but with "${bucket}"`, 'write s3://bucket/prefix');
  }
  const segments = parts.filter((p) => p !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw new StoreError('invalid-location', `the prefix in ${value} has a . or .. segment`, 'write s3://bucket/prefix with a plain prefix');
  return { kind: 's3', bucket, prefix: segments.join('/') };
}

export interface OpenStoreOptions {
  /** The environment to read BATON_STORE, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_REGION from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The directory a relative location is taken against (default the process's cwd). */
  cwd?: string;
  /** S3 only: credentials for this store, rather than the SDK's chain (tests). */
  credentials?: S3StoreOptions['credentials'];
  /** S3 only: attempts per request (default 3) and connection timeout. */
  maxAttempts?: number;
  connectionTimeoutMs?: number;
}

/** The store at `location`: a directory, `file://…`, or `s3://bucket/prefix`. */
export function openStore(location: string, options: OpenStoreOptions = {}): Store {
  const env = options.env ?? process.env;
  const where = parseStoreLocation(location, options.cwd);
  if (where.kind === 'filesystem') return new FilesystemStore(where.directory);
  const endpoint = endpointFrom(env);
  const region = env.AWS_REGION?.trim() || undefined;
  return new S3Store({
    bucket: where.bucket,
    prefix: where.prefix,
    ...(endpoint ? { endpoint: endpoint.url, endpointSource: endpoint.source } : {}),
    ...(region ? { region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.connectionTimeoutMs ? { connectionTimeoutMs: options.connectionTimeoutMs } : {}),
  });
}

/**
 * The store BATON_STORE names, or a filesystem store at `defaultDirectory` when it is unset or
 * empty: what a worker, agent or client uses.
 */
export function storeFromEnvironment(defaultDirectory: string, options: OpenStoreOptions = {}): Store {
  const env = options.env ?? process.env;
  const configured = env.BATON_STORE?.trim();
  return openStore(configured || path.resolve(options.cwd ?? process.cwd(), defaultDirectory), options);
}

/** The endpoint for S3: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL (the SDK's own names), checked. */
export function endpointFrom(env: NodeJS.ProcessEnv): { url: string; source: string } | undefined {
  for (const source of ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'] as const) {
    const value = env[source]?.trim();
    if (!value) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new StoreError('invalid-location', `${source} is "${value}", which is not a URL`, `set it to the service's address, such as http://127.0.0.1:7070 or https://s3.example.com`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new StoreError('invalid-location', `${source} is "${value}", which is not an http:// or https:// URL`, `set it to the service's address, such as https://s3.example.com`);
    }
    return { url: value.replace(/\/+$/, ''), source };
  }
  return undefined;
}
