/** A pipeline as a queue Tagger: records in, predict's jsonl lines out (the same code path as `predict --file`). */
import type { AggregationStrategy } from '../infer/aggregation.js';
import type { PredictOptions, TokenClassificationPipeline } from '../infer/pipeline.js';
import { formatRecord, runChunk, type InputRecord } from '../infer/predict-files.js';
import type { Tagger } from './worker.js';

export function pipelineTagger(
  pipe: TokenClassificationPipeline,
  o: { aggregationStrategy?: AggregationStrategy; ignoreLabels?: readonly string[]; batchSize?: number; stride?: number } = {},
): Tagger {
  return async (records: readonly InputRecord[], signal?: AbortSignal) => {
    const results = await runChunk(signal ? withSignal(pipe, signal) : pipe, records, { inputFormat: 'txt', outputFormat: 'jsonl', ...o });
    return records.map((r, k) => formatRecord(r, results[k]!, 'jsonl'));
  };
}

/** The pipeline with `signal` in every call runChunk makes, so a stopping worker's tagging ends between forward calls. */
function withSignal(pipe: TokenClassificationPipeline, signal: AbortSignal): TokenClassificationPipeline {
  const view = Object.create(pipe) as TokenClassificationPipeline;
  const add = (opts: PredictOptions = {}): PredictOptions => ({ ...opts, signal });
  view.predictTexts = (texts, opts) => pipe.predictTexts(texts, add(opts));
  view.predictWords = (sentences, opts) => pipe.predictWords(sentences, add(opts));
  view.tagTextWords = (texts, opts) => pipe.tagTextWords(texts, add(opts));
  return view;
}
