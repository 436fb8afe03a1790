/** Batch tagging over Redis Streams: enqueue a file, tag it with any number of workers, collect the results in order. */
export { connectRedis, checkRedisUrl, streamNames, redactUrl, QueueError, type StreamNames } from './connect.js';
export { StreamWorker, DEFAULT_RECORD_LIMITS, type RecordLimits, type Tagger, type WorkerOptions } from './worker.js';
export { WorkerCounters, prometheusText, metricsServer } from './metrics.js';
export { pipelineTagger } from './tagger.js';
export { enqueueRecords, type EnqueueOptions } from './enqueue.js';
export { collectResults, type CollectOptions, type Collected } from './collect.js';
