/**
 * Python's json writes a float field as 2.0 where JavaScript writes 2, and transformers 5 checks
 * config field types strictly (`initializer_cutoff_factor: float` rejects the int 2). This marks
 * the named top-level fields of a pretty-printed config back as floats when their value is integral.
 */
export function integralAsFloat(text: string, keys: readonly string[]): string {
  let out = text;
  for (const k of keys) {
    const key = JSON.stringify(k).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`^(  ${key}: )(-?\\d+)(,?)$`, 'm'), '$1$2.0$3');
  }
  return out;
}
