/**
 * The store layer (issue 16): objects by key and by content hash, in a directory or an S3 bucket.
 * Not yet used by runs; see store.ts for the interface and open-store.ts for BATON_STORE.
 */
export { StoreError, isStoreError, type StoreProblem } from './errors.js';
export { BaseStore, checkKey, checkPrefix, contentKey, type Body, type ContentRef, type Store, type StoredObject } from './store.js';
export { FilesystemStore } from './fs-store.js';
export { S3Store, SINGLE_PUT_LIMIT, PART_SIZE, type S3StoreOptions } from './s3-store.js';
export { endpointFrom, openStore, parseStoreLocation, storeFromEnvironment, type OpenStoreOptions, type StoreLocation } from './open-store.js';
