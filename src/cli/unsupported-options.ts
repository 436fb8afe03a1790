// Known Trainer / run_ner.py settings that tokentune does not implement. 'error': setting it would
// silently change what the user asked for (precision, parallelism, another optimizer); 'warn': it
// only affects logging, hardware placement or the Python data pipeline, so ignoring it is safe.
// A value in `harmless` (or null/false/0/''/'none'/empty) means "not in use" and passes silently.

import { findOption } from '../train/training-options.js';

export interface UnsupportedSpec {
  name: string;
  action: 'warn' | 'error';
  /** false for boolean flags (`--fp16`), true for flags that take a value. */
  takesValue: boolean;
  reason: string;
  harmless?: readonly (string | number | boolean)[];
}

const U = (
  names: string,
  action: 'warn' | 'error',
  takesValue: boolean,
  reason: string,
  harmless?: readonly (string | number | boolean)[],
): UnsupportedSpec[] => names.split(/\s+/).map((name) => ({ name, action, takesValue, reason, ...(harmless ? { harmless } : {}) }));

// transformers 5's AcceleratorConfig() as to_dict() writes it (compared as JSON text).
const ACCELERATOR_DEFAULT = JSON.stringify({
  split_batches: false,
  dispatch_batches: null,
  even_batches: true,
  use_seedable_sampler: true,
  non_blocking: false,
  gradient_accumulation_kwargs: null,
});

export const UNSUPPORTED_OPTIONS: readonly UnsupportedSpec[] = [
  ...U(
    'fp16 fp16_full_eval bf16_full_eval tf32',
    'error',
    false,
    'tokentune trains in float32, or with --bf16 in bf16 mixed precision (float32 weights); float16 and pure-bf16 evaluation are not supported',
  ),
  ...U('deepspeed fsdp fsdp_config', 'error', true, 'distributed / sharded training is not supported; tokentune runs in one process'),
  ...U('torch_compile', 'error', false, 'there is no torch.compile in tokentune'),
  ...U('torchdynamo', 'error', true, 'there is no torch.compile in tokentune'),
  ...U('gradient_checkpointing', 'error', false, 'activation checkpointing is not implemented'),
  ...U('adafactor', 'error', false, 'only AdamW is implemented'),
  ...U('optim_args lr_scheduler_kwargs', 'error', true, 'extra optimizer / scheduler arguments are not supported'),
  ...U('label_smoothing_factor neftune_noise_alpha eval_delay', 'error', true, 'not implemented'),
  ...U(
    'auto_find_batch_size use_liger_kernel jit_mode_eval use_ipex prediction_loss_only eval_on_start dataloader_drop_last',
    'error',
    false,
    'not implemented',
  ),
  ...U('push_to_hub', 'error', false, 'uploading to the Hugging Face Hub is not supported; upload the output folder yourself'),
  ...U('fp16_opt_level', 'warn', true, 'no float16 mixed precision; ignored', ['O1']),
  ...U('half_precision_backend fp16_backend', 'warn', true, 'there is one backend (the native bf16 GEMM with --bf16); ignored', ['auto']),
  ...U('torch_compile_backend torch_compile_mode', 'warn', true, 'no torch.compile; ignored'),
  ...U('run_name', 'warn', true, 'runs are not named; ignored'),
  ...U('dataloader_num_workers dataloader_prefetch_factor preprocessing_num_workers', 'warn', true, 'data is prepared in-process; ignored'),
  ...U('dataloader_pin_memory dataloader_persistent_workers', 'warn', false, 'no GPU data loading; ignored', [true]),
  ...U('use_cpu no_cuda use_mps_device', 'warn', false, 'tokentune always runs on the CPU; ignored', [true]),
  ...U('local_rank', 'warn', true, 'single process only; ignored', [-1]),
  ...U('ddp_backend ddp_find_unused_parameters ddp_bucket_cap_mb ddp_broadcast_buffers', 'warn', true, 'single process only; ignored'),
  ...U('ddp_timeout', 'warn', true, 'single process only; ignored', [1800]),
  ...U('log_level log_level_replica', 'warn', true, 'ignored', ['passive', 'warning', 'info']),
  ...U(
    'log_on_each_node logging_nan_inf_filter save_on_each_node skip_memory_metrics remove_unused_columns eval_do_concat_batches save_safetensors',
    'warn',
    false,
    'ignored',
    [true],
  ),
  ...U('hub_model_id hub_strategy hub_private_repo hub_always_push', 'warn', true, 'no Hub upload; ignored', ['every_save']),
  ...U(
    'overwrite_cache cache_dir model_revision token use_auth_token trust_remote_code',
    'warn',
    true,
    'no download cache options; ignored',
    ['main'],
  ),
  ...U(
    'include_inputs_for_metrics include_for_metrics include_num_input_tokens_seen ignore_data_skip full_determinism save_only_model restore_callback_states_from_checkpoint batch_eval_metrics',
    'warn',
    false,
    'ignored',
  ),
  ...U('average_tokens_across_devices', 'warn', false, 'single process only; ignored', [true]),
  ...U('eval_accumulation_steps torch_empty_cache_steps past_index length_column_name', 'warn', true, 'ignored', [-1, 'length']),
  ...U('tpu_num_cores tpu_metrics_debug debug ray_scope mp_parameters', 'warn', true, 'ignored', ['last']),
  // transformers 5 fields that a full TrainingArguments(...).to_dict() dump carries at their defaults.
  ...U('accelerator_config', 'warn', true, 'single process only; ignored', [ACCELERATOR_DEFAULT]),
  ...U(
    'parallelism_config optim_target_modules gradient_checkpointing_kwargs liger_kernel_config hub_revision trackio_space_id trackio_bucket_id trackio_static_space_id dataloader_multiprocessing_context ddp_static_graph',
    'warn',
    true,
    'ignored',
  ),
  ...U('use_cache eval_use_gather_object enable_jit_checkpoint', 'warn', false, 'ignored'),
  ...U('project', 'warn', true, 'experiment trackers are not supported; ignored', ['huggingface']),
  ...U('hub_token', 'warn', true, 'no Hub upload; ignored', ['<HUB_TOKEN>']),
  ...U('dataloader_in_order', 'warn', false, 'batches are always taken in sampler order; ignored', [true]),
  ...U('train_sampling_strategy', 'warn', true, 'tokentune samples randomly (or by length with group_by_length); ignored', ['random']),
];

export const UNSUPPORTED_BY_NAME: ReadonlyMap<string, UnsupportedSpec> = new Map(UNSUPPORTED_OPTIONS.map((u) => [u.name, u]));
for (const u of UNSUPPORTED_OPTIONS)
  if (findOption(u.name)) throw new Error(`training options: '${u.name}' is both supported and unsupported`);

/** The value says the setting is not in use (off, empty, none, or a default listed in `harmless`). */
export function isHarmless(u: UnsupportedSpec, value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0 || (value.length === 1 && isHarmless(u, value[0]));
  if (typeof value === 'object') return Object.keys(value as object).length === 0 || (u.harmless?.includes(JSON.stringify(value)) ?? false);
  if (typeof value === 'string') {
    const w = value.trim().toLowerCase();
    if (['none', 'null', 'no', 'false', 'f', 'n', '0', ''].includes(w)) return true;
    if (u.harmless?.some((h) => String(h).toLowerCase() === w)) return true;
    return false;
  }
  return u.harmless?.includes(value as string | number | boolean) ?? false;
}
