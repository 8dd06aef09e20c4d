/**
 * The S3 store: objects under `s3://bucket/prefix/<key>` on AWS S3 or any S3-compatible service,
 * through the AWS SDK for JavaScript v3. Credentials come from the SDK's standard chain
 * (environment, shared config and credentials files and profiles, SSO, web identity, container
 * and instance roles), never from Baton's own settings. Another provider is reached with
 * `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`); with an endpoint, addresses are path-style
 * (`http://host/bucket/key`), which every S3-compatible service takes.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { StoreError } from './errors.js';
import { BaseStore, collect, type StoreBackend, type StoredObject } from './store.js';

/** Objects up to this size go in one PutObject from memory; larger ones in parts (lib-storage). */
export const SINGLE_PUT_LIMIT = 16 * 1024 * 1024;
/** The size of each part of a multipart upload (S3 takes at most 10,000 parts; larger files get larger parts). */
export const PART_SIZE = 16 * 1024 * 1024;
const MAX_PARTS = 10_000;

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix within the bucket, without leading or trailing `/` ('' for none). */
  prefix: string;
  /** An S3-compatible endpoint (`http://127.0.0.1:7070`); unset for AWS S3 itself. */
  endpoint?: string;
  /** Where the endpoint came from, for messages (`AWS_ENDPOINT_URL_S3`). */
  endpointSource?: string;
  /** The region; unset takes the SDK's (AWS_REGION, the profile), or us-east-1 with an endpoint. */
  region?: string;
  /** Credentials for this store alone; unset takes the SDK's standard chain (the usual). */
  credentials?: S3ClientConfig['credentials'];
  /** Milliseconds to wait for a connection (default 10 s). */
  connectionTimeoutMs?: number;
  /** Attempts per request, the SDK's retries included (default 3). */
  maxAttempts?: number;
}

export class S3Backend implements StoreBackend {
  readonly location: string;
  readonly description: string;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly endpointText: string;
  /** Set once the bucket is known to exist, so a 404 on HEAD can be told apart from a missing bucket. */
  private bucketSeen = false;

  constructor(private readonly options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.location = `s3://${options.bucket}${options.prefix ? `/${options.prefix}` : ''}`;
    this.endpointText = options.endpoint
      ? `${options.endpoint}${options.endpointSource ? ` (from ${options.endpointSource})` : ''}`
      : 'AWS S3';
    this.description = `${this.location} at ${this.endpointText}`;
    const config: S3ClientConfig = {
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: { connectionTimeout: options.connectionTimeoutMs ?? 10_000, socketTimeout: 120_000 },
    };
    if (options.credentials) config.credentials = options.credentials;
    if (options.endpoint) {
      config.endpoint = options.endpoint;
      config.forcePathStyle = true;
      config.region = options.region ?? 'us-east-1';
      // The SDK's default CRC checksums on every request (with aws-chunked bodies for streams) are
      // not taken by every S3-compatible service; Baton checks sha256 itself, so ask for them only
      // where the operation requires one, unless the environment says otherwise.
      if (!process.env.AWS_REQUEST_CHECKSUM_CALCULATION) config.requestChecksumCalculation = 'WHEN_REQUIRED';
      if (!process.env.AWS_RESPONSE_CHECKSUM_VALIDATION) config.responseChecksumValidation = 'WHEN_REQUIRED';
    } else {
      if (options.region) config.region = options.region;
      config.followRegionRedirects = true;
    }
    // The SDK warns once per process on Node 20 that its releases after January 2027 need Node 22:
    // a note for Baton's maintainers (the lock file pins a release that runs on 20), not for
    // whoever runs `baton`, so it is held back here, and only here (phase commands, which inherit
    // the environment, still see it from their own SDK).
    const quiet = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
    const before = process.env[quiet];
    process.env[quiet] = 'true';
    try {
      this.client = new S3Client(config);
    } finally {
      if (before === undefined) delete process.env[quiet];
      else process.env[quiet] = before;
    }
  }

  private objectKey(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async write(key: string, bytes: Buffer, sha256?: string): Promise<void> {
    const input = {
      Bucket: this.bucket,
      Key: this.objectKey(key),
      Body: bytes,
      ContentLength: bytes.length,
      // With the hash, the service refuses bytes that do not match it (BadDigest).
      ...(sha256 ? { ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64') } : {}),
    };
    await this.client.send(new PutObjectCommand(input)).catch((err: unknown) => {
      throw this.problem(err, key, 'write');
    });
    this.bucketSeen = true;
  }

  async writeStream(key: string, body: Readable, size: number | undefined, verify?: () => void, sha256?: string): Promise<void> {
    if (size !== undefined && size <= SINGLE_PUT_LIMIT) {
      // Small enough to hold: one request, which the SDK can retry (a stream it could not).
      const bytes = await collect(body);
      verify?.();
      await this.write(key, bytes, sha256);
      return;
    }
    const partSize = size === undefined ? PART_SIZE : Math.max(PART_SIZE, Math.ceil(size / (MAX_PARTS - 1)));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.objectKey(key), Body: body },
      partSize,
      queueSize: 4,
      leavePartsOnError: false, // a failed upload is aborted, leaving no parts to pay for
    });
    await upload.done().catch((err: unknown) => {
      body.destroy();
      throw this.problem(err, key, 'write');
    });
    this.bucketSeen = true;
  }

  async read(key: string): Promise<{ stream: Readable; size: number | undefined }> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) })).catch((err: unknown) => {
      throw this.problem(err, key, 'read');
    });
    this.bucketSeen = true;
    const body = out.Body;
    if (!(body instanceof Readable)) {
      throw new StoreError('failed', `${key} in ${this.description} came back without a body`, 'try again; if it recurs, check the service', { key });
    }
    body.once('error', () => undefined); // consumers see the error through the stream they read
    return { stream: body, size: out.ContentLength };
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      this.bucketSeen = true;
      return { key, size: out.ContentLength ?? 0, ...(out.LastModified ? { modified: out.LastModified } : {}) };
    } catch (err) {
      const code = status(err);
      if (code === 403) {
        // A HEAD's refusal has no body to say why: a listing of the bucket tells credentials the
        // service does not take (its error says so) from a permission they lack (it succeeds).
        await this.headBucket();
        throw this.problem(err, key, 'read');
      }
      if (code !== 404) throw this.problem(err, key, 'read');
      // HEAD answers carry no error code, so a missing bucket (or, on some services, an unknown
      // access key) is a 404 too: ask once.
      if (!this.bucketSeen) await this.headBucket();
      return undefined;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const strip = this.prefix ? this.prefix.length + 1 : 0;
    try {
      const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: this.objectKey(prefix) });
      for await (const page of pages) {
        this.bucketSeen = true;
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined || o.Key.endsWith('/')) continue; // "folder" markers other tools make
          yield { key: o.Key.slice(strip), size: o.Size ?? 0, ...(o.LastModified ? { modified: o.LastModified } : {}) };
        }
      }
    } catch (err) {
      throw this.problem(err, undefined, 'list', prefix ? `the objects under ${prefix} in ${this.description}` : `the objects in ${this.description}`);
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) })).catch((err: unknown) => {
      if (status(err) === 404 && errorName(err) !== 'NoSuchBucket') return;
      throw this.problem(err, key, 'delete');
    });
  }

  async check(): Promise<void> {
    await this.headBucket();
    const probe = `.baton-probe/${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    await this.write(probe, Buffer.from('baton store check'));
    try {
      const { stream } = await this.read(probe);
      const back = (await collect(stream)).toString();
      if (back !== 'baton store check') {
        throw new StoreError('failed', `${this.description} gave back other bytes than were written to it (${probe})`, 'check the service');
      }
    } finally {
      await this.delete(probe);
    }
  }

  /**
   * Whether the bucket is there and these credentials may list it. A one-key listing rather than
   * HeadBucket: a HEAD's error has no body, so a missing bucket, an unknown access key (which some
   * services answer with 404) and a refusal would look alike; a listing's error says which.
   */
  private async headBucket(): Promise<void> {
    await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1, ...(this.prefix ? { Prefix: `${this.prefix}/` } : {}) })).catch((err: unknown) => {
      throw this.problem(err, undefined, 'bucket');
    });
    this.bucketSeen = true;
  }

  /** Closes the client's connections (a store used for a moment, as in `baton doctor`). */
  destroy(): void {
    this.client.destroy();
  }

  /** An SDK error as a StoreError: what happened, to which object where, and what to do. */
  problem(err: unknown, key: string | undefined, doing: 'read' | 'write' | 'list' | 'delete' | 'bucket', subject?: string): Error {
    if (err instanceof StoreError) return err;
    const name = errorName(err);
    const code = errnoCode(err);
    const httpStatus = status(err);
    const message = (err as Error)?.message ?? String(err);
    const what = subject ?? (key === undefined ? this.description : `${key} in ${this.description}`);
    const verb = { read: 'read', write: 'write', list: 'list', delete: 'delete', bucket: 'reach the bucket of' }[doing];
    const opts = { ...(key === undefined ? {} : { key }), cause: err };
    const endpointFix = this.options.endpoint
      ? `check that the service runs and that ${this.options.endpointSource ?? 'the endpoint'} (${this.options.endpoint}) is its address`
      : 'check the network (and a proxy, if any) between this machine and AWS S3';

    if (UNREACHABLE_CODES.has(code ?? '') || name === 'TimeoutError' || name === 'RequestTimeout' || /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|socket hang up|timed out/i.test(message)) {
      return new StoreError('unreachable', `cannot ${verb} ${what}: the service cannot be reached (${code ?? name}: ${message})`, endpointFix, opts);
    }
    if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
      return new StoreError(
        'no-credentials',
        `cannot ${verb} ${what}: no AWS credentials were found (${message})`,
        'give this machine credentials the SDK finds: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE with ~/.aws/config, or a role (instance profile, web identity, container)',
        opts,
      );
    }
    if (/Region is missing/i.test(message)) {
      return new StoreError('invalid-location', `cannot ${verb} ${what}: no region is set`, "set AWS_REGION to the bucket's region (or region in the profile's ~/.aws/config)", opts);
    }
    if (BAD_CREDENTIALS.has(name)) {
      return new StoreError(
        'denied',
        `cannot ${verb} ${what}: the service refused the credentials (${name})`,
        'check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the profile AWS_PROFILE names, or the role) against the ones this service issued',
        opts,
      );
    }
    if (name === 'NoSuchBucket' || (doing === 'bucket' && httpStatus === 404)) {
      return new StoreError(
        'no-bucket',
        `${key === undefined ? '' : `cannot ${verb} ${key}: `}the bucket ${this.bucket} does not exist at ${this.endpointText}`,
        `create it (aws s3 mb s3://${this.bucket}${this.options.endpoint ? ` --endpoint-url ${this.options.endpoint}` : ''}) or correct BATON_STORE`,
        opts,
      );
    }
    if (name === 'NoSuchKey' || (httpStatus === 404 && doing === 'read')) {
      return new StoreError(
        'missing',
        `${key ?? 'the object'} is not in ${this.description}`,
        'it was never stored there, or was removed: check that BATON_STORE names the same store on every machine, or store it again',
        opts,
      );
    }
    if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || httpStatus === 301) {
      return new StoreError('invalid-location', `cannot ${verb} ${what}: the bucket ${this.bucket} is in another region (${name})`, "set AWS_REGION to the bucket's region", opts);
    }
    if (name === 'AccessDenied' || name === 'AllAccessDisabled' || httpStatus === 403) {
      const action = { read: 's3:GetObject', write: 's3:PutObject', list: 's3:ListBucket', delete: 's3:DeleteObject', bucket: 's3:ListBucket' }[doing];
      return new StoreError(
        'denied',
        `cannot ${verb} ${what}: access denied (${['403', 'Forbidden', 'Unknown', 'Error'].includes(name) ? 'HTTP 403' : name})`,
        `the credentials in use lack ${action} on arn:aws:s3:::${this.bucket}${doing === 'list' || doing === 'bucket' ? '' : `/${this.prefix ? `${this.prefix}/` : ''}*`} (or they are wrong: a HEAD request cannot say which); grant s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket to Baton's machines`,
        opts,
      );
    }
    if (name === 'BadDigest' || name === 'XAmzContentSHA256Mismatch' || name === 'InvalidDigest') {
      return new StoreError('changed', `the service refused ${what}: its bytes did not match their checksum (${name})`, 'store it again; if it recurs, something between this machine and the service alters data', opts);
    }
    return new StoreError('failed', `cannot ${verb} ${what}: ${name}${httpStatus ? ` (HTTP ${httpStatus})` : ''}: ${message}`, 'try again; if it recurs, check the service', opts);
  }
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);
// XAdminUserNotFound: the Versity gateway's answer (404) to an access key it does not know.
const BAD_CREDENTIALS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired', 'InvalidClientTokenId', 'UnrecognizedClientException', 'XAdminUserNotFound']);

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? 'Error';
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** The errno code of a network error, wherever the SDK put it (the error itself, or its cause). */
function errnoCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string') return e.code;
    // AggregateError (happy eyeballs tries several addresses).
    const first = Array.isArray(e.errors) ? (e.errors[0] as { code?: unknown } | undefined) : undefined;
    if (first && typeof first.code === 'string') return first.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

export class S3Store extends BaseStore {
  constructor(options: S3StoreOptions) {
    super(new S3Backend(options));
  }

  /** Closes the client's connections. */
  destroy(): void {
    (this.backend as S3Backend).destroy();
  }
}
