/** Public surface of the io layer: checkpoints in and out, and the hub client. */
export type { DType, ReadPlan, StateDict, TensorData, TensorInfo, TensorRecord } from './tensor-record.js';
export { DTYPE_ITEM_SIZE, isFloatDType, shapeNumel } from './tensor-record.js';
export { CheckpointFormatError, CheckpointNotFoundError, UnsafePickleError, UnsupportedCheckpointError } from './errors.js';
export { readSafetensors, serializeSafetensors, writeSafetensors, SAFETENSORS_MAX_HEADER_BYTES } from './safetensors.js';
export type { F32TensorInput, SafetensorsFile } from './safetensors.js';
export { readTorchCheckpoint } from './torch-zip.js';
export type { ReadTorchOptions } from './torch-zip.js';
export { findCheckpoint, loadStateDict, normaliseLegacyKey, normaliseStateDictKeys } from './state-dict.js';
export type { CheckpointFormat, CheckpointLocation } from './state-dict.js';
export { hubFileUrl, hubSnapshotDownload, snapshotDownload } from './hub.js';
export type { SnapshotDownloadOptions } from './hub.js';
export {
  cachedSnapshotDir,
  hfHome,
  hfHubCacheDir,
  hubEndpoint,
  isOfflineEnv,
  repoFolderName,
  resolveToken,
} from './hub-cache.js';
export type { RepoType } from './hub-cache.js';
export {
  DownloadIntegrityError,
  EntryNotFoundError,
  HubAuthError,
  HubError,
  HubHttpError,
  HubNetworkError,
  OfflineCacheMissError,
  RepoNotFoundError,
  RevisionNotFoundError,
} from './hub-errors.js';
export { createTerminalProgress } from './progress.js';
export type { DownloadProgress } from './progress.js';
