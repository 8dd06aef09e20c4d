/** The page's requests to its own server. */
import type { ErrorResponse } from '../api.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function failure(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => undefined)) as ErrorResponse | undefined;
  return new ApiError(res.status, body?.error ?? `${res.status} ${res.statusText}`);
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}

/** A GET that may answer 304 for an unchanged `etag`: then `body` is undefined. */
export async function getIfChanged<T>(url: string, etag: string | undefined): Promise<{ body: T | undefined; etag: string | undefined }> {
  const res = await fetch(url, { headers: { Accept: 'application/json', ...(etag ? { 'If-None-Match': etag } : {}) }, cache: 'no-cache' });
  if (res.status === 304) return { body: undefined, etag };
  if (!res.ok) throw await failure(res);
  return { body: (await res.json()) as T, etag: res.headers.get('ETag') ?? undefined };
}

export async function postJson<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw await failure(res);
  return (await res.json()) as T;
}
