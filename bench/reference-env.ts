/**
 * The environment of a reference engine's child process (OpenBLAS, torch / transformers). With
 * TOKENTUNE_KERNEL=avx2 on an AVX-512 machine our kernels run AVX2 while the references would pick
 * their AVX-512 code from cpuid, and the ratio would compare two instruction sets. So the references
 * are capped to AVX2 as well: OpenBLAS's Haswell kernels, ATen's avx2 dispatch, MKL and oneDNN
 * limited to AVX2. Values the user set win. onnxruntime (loaded in-process) has no such switch.
 */

/** The variables that cap the references to AVX2, and their values. */
const AVX2_CAPS: Readonly<Record<string, string>> = {
  OPENBLAS_CORETYPE: 'Haswell',
  ATEN_CPU_CAPABILITY: 'avx2',
  MKL_ENABLE_INSTRUCTIONS: 'AVX2',
  ONEDNN_MAX_CPU_ISA: 'AVX2',
};

function capped(): boolean {
  return process.arch === 'x64' && process.env.TOKENTUNE_KERNEL === 'avx2';
}

/** process.env plus `extra`, with the AVX2 caps added where our kernels are forced to AVX2. */
export function referenceEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (capped()) for (const [k, v] of Object.entries(AVX2_CAPS)) env[k] ??= v;
  return env;
}

/** One line for a bench's header saying how the references were capped, or null when they were not. */
export function referenceIsaNote(): string | null {
  if (!capped()) return null;
  const set = Object.keys(AVX2_CAPS)
    .map((k) => `${k}=${process.env[k] ?? AVX2_CAPS[k]}`)
    .join(' ');
  return `TOKENTUNE_KERNEL=avx2: references capped to AVX2 as well (${set}); onnxruntime cannot be capped`;
}
