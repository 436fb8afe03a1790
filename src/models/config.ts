/**
 * config.json by model_type: reading and writing a config with the config family its registry
 * row names (model-config.ts does the work; config-family.ts says what a family is). A model_type
 * without a row is read with BERT's conventions, so the registry can name it in its error.
 */
import { BERT_DEFAULTS, type ConfigField } from './config-family.js';
import { integralAsFloat } from './json-floats.js';
import { ConfigError, configToJsonWith, parseConfigWith, type ModelConfig } from './model-config.js';
import { configFamily } from './registry.js';
import { ModelFileError, readModelJson } from '../io/model-file.js';

export { ConfigError, SIZE_BOUNDS, type ModelConfig } from './model-config.js';

export function readConfig(path: string): ModelConfig {
  let json: unknown;
  try {
    json = readModelJson(path);
  } catch (e) {
    throw new ConfigError(path, `cannot read config: ${e instanceof ModelFileError ? e.problem : (e as Error).message}`);
  }
  return parseConfig(json, path);
}

export function parseConfig(json: unknown, source = 'config.json'): ModelConfig {
  const modelType = json && typeof json === 'object' ? (json as Record<string, unknown>).model_type : undefined;
  return parseConfigWith(json, configFamily(modelType ?? BERT_DEFAULTS.model_type), source);
}

/** The config as HF writes it: original fields, our values, architectures and the label maps. */
export function configToJson(cfg: ModelConfig, architecture: string): Record<string, unknown> {
  return configToJsonWith(cfg, architecture, configFamily(cfg.modelType));
}

/** config.json's text: pretty-printed, with the fields the model_type's config class types as float written as floats (2.0). */
export function configJsonText(json: Record<string, unknown>): string {
  return integralAsFloat(JSON.stringify(json, null, 2) + '\n', configFamily(json.model_type).floatFields ?? []);
}

/** A config for a model made from scratch (the demo, tests). */
export function makeConfig(
  fields: Partial<Record<ConfigField, unknown>> & { id2label?: Record<string, string> } & Record<string, unknown>,
): ModelConfig {
  // The model_type's defaults under its own field names (DistilBERT: dim, n_layers, ...); `fields` use those names too.
  const fam = configFamily(fields.model_type ?? 'bert');
  const defaults: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fam.defaults) as [ConfigField, unknown][]) if (!(k in fam.fixed)) defaults[fam.aliases[k] ?? k] = v;
  return parseConfig({ ...defaults, ...fields }, 'config');
}
