/**
 * Hugging Face Inference's request body for token classification,
 * `{"inputs": "..." | ["...", ...], "parameters": {"aggregation_strategy": ..., "ignore_labels": [...]}}`,
 * as tokentune's own `{"text" | "texts", "aggregation_strategy", "ignore_labels"}`, so that
 * clients written for the Inference API work against `tokentune serve` unchanged.
 */
export class HfInferenceBodyError extends Error {}

export function fromHfInferenceBody(b: Record<string, unknown>): Record<string, unknown> {
  if (!('inputs' in b)) return b;
  if ('text' in b || 'texts' in b) throw new HfInferenceBodyError('give "inputs" (Hugging Face Inference) or "text"/"texts", not both');
  const out: Record<string, unknown> = {};
  const inputs = b.inputs;
  if (typeof inputs === 'string') out.text = inputs;
  else if (Array.isArray(inputs)) out.texts = inputs;
  else throw new HfInferenceBodyError(`"inputs" must be a string or a list of strings, got ${inputs === null ? 'null' : typeof inputs}`);
  const p = b.parameters;
  if (p !== undefined && p !== null) {
    if (typeof p !== 'object' || Array.isArray(p)) throw new HfInferenceBodyError('"parameters" must be an object');
    const params = p as Record<string, unknown>;
    for (const k of Object.keys(params)) {
      if (k !== 'aggregation_strategy' && k !== 'ignore_labels')
        throw new HfInferenceBodyError(`"parameters"."${k}" is not supported (known: aggregation_strategy, ignore_labels)`);
    }
    if (params.aggregation_strategy !== undefined) out.aggregation_strategy = params.aggregation_strategy;
    if (params.ignore_labels !== undefined) out.ignore_labels = params.ignore_labels;
  }
  return out;
}
