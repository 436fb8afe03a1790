/** A pipeline as a queue Tagger: records in, predict's jsonl lines out (the same code path as `predict --file`). */
import type { AggregationStrategy } from '../infer/aggregation.js';
import type { TokenClassificationPipeline } from '../infer/pipeline.js';
import { formatRecord, runChunk, type InputRecord } from '../infer/predict-files.js';
import type { Tagger } from './worker.js';

export function pipelineTagger(pipe: TokenClassificationPipeline, o: { aggregationStrategy?: AggregationStrategy; ignoreLabels?: readonly string[]; batchSize?: number; stride?: number } = {}): Tagger {
  return async (records: readonly InputRecord[]) => {
    const results = await runChunk(pipe, records, { inputFormat: 'txt', outputFormat: 'jsonl', ...o });
    return records.map((r, k) => formatRecord(r, results[k]!, 'jsonl'));
  };
}
