// The one way Node code here finds the Python with transformers 5 / torch 2.x (tools, fixture scripts,
// benches and the tests that call Python): the variable TOKENTUNE_HF_PYTHON, never a guessed path.
// tools/hf-python.sh does the same for shell scripts.
import { existsSync } from 'node:fs';

export const HF_PYTHON_VAR = 'TOKENTUNE_HF_PYTHON';

/**
 * The interpreter, or why there is none (for callers that skip instead of failing).
 * @returns {{ python: string, missing?: undefined } | { python?: undefined, missing: string }}
 */
export function findHfPython() {
  const python = process.env[HF_PYTHON_VAR];
  if (!python) {
    return {
      missing: `${HF_PYTHON_VAR} is not set: point it at a Python with transformers 5 and torch 2.x (bash ../shared/bench/hf-env.sh prints one)`,
    };
  }
  if (!existsSync(python)) return { missing: `${HF_PYTHON_VAR}=${python}: no such file` };
  return { python };
}

/**
 * The interpreter; throws one line naming the variable when it is unset or absent.
 * @returns {string}
 */
export function hfPython() {
  const found = findHfPython();
  if (found.missing !== undefined) throw new Error(found.missing);
  return found.python;
}
