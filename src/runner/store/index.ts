/**
 * The store layer (issue 16): objects by key and by content hash, in a directory or an S3 bucket.
 * See store.ts for the interface, open-store.ts for BATON_STORE, and sync.ts for how runs use it.
 */
export { StoreError, isStoreError, type StoreProblem } from './errors.js';
export { BaseStore, checkKey, checkPrefix, contentKey, type Body, type ContentRef, type Store, type StoredObject } from './store.js';
export { FilesystemStore } from './fs-store.js';
export { S3Store, SINGLE_PUT_LIMIT, PART_SIZE, type S3StoreOptions } from './s3-store.js';
export { endpointFrom, openStore, parseStoreLocation, storeFromEnvironment, type OpenStoreOptions, type StoreLocation } from './open-store.js';
export { cachedWorkdir, configuredStore, defaultCacheRoot, pullContext, pullPackageInputs, pullRunFile, pushContext, pushRunFile, pushSharedArtifacts, runFileKey, sharedArtifactsKey } from './sync.js';
