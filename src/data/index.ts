/** Data layer: readers, tag schemes, label maps, alignment, windows, batching. Plain typed arrays only. */
export * from './errors.js';
export type * from './types.js';
export * from './text-file.js';
export * from './tag-schemes.js';
export { TagChecker } from './tag-check.js';
export * from './conll.js';
export * from './conllu.js';
export * from './jsonl.js';
export * from './parquet.js';
export { detectFormat, readDataFile, type DataFormat, type ReadOptions } from './read-data-file.js';
export * from './splits.js';
export * from './label-map.js';
export * from './align.js';
export * from './windows.js';
export * from './features.js';
export * from './collate.js';
export * from './samplers.js';
export * from './epoch-batches.js';
