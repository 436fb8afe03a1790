/**
 * What a training run must be able to write at the end, checked before the first step: an
 * obstacle (a folder named model.safetensors, an output "folder" that is a file, a read-only
 * folder) found only after training would waste the run and leave a large temporary file.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_FILE_NAME } from './log-writer.js';
import { PLOT_FILE_NAME } from './plot.js';

/** Files a run writes into its output folder (savePretrained, the tokenizer, the log and plot). */
export const RUN_OUTPUT_FILES = [
  'config.json',
  'model.safetensors',
  'vocab.txt',
  'tokenizer_config.json',
  'special_tokens_map.json',
  LOG_FILE_NAME,
  PLOT_FILE_NAME,
] as const;

export class OutputObstacleError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'OutputObstacleError';
  }
}

/** Throws OutputObstacleError naming the first path a run could not write, and the fix. */
export function checkOutputWritable(outputDir: string, files: readonly string[] = RUN_OUTPUT_FILES): void {
  if (existsSync(outputDir) && !statSync(outputDir).isDirectory()) {
    throw new OutputObstacleError(outputDir, 'the output folder is a file; choose another --output-dir or remove the file');
  }
  mkdirSync(outputDir, { recursive: true });
  try {
    accessSync(outputDir, constants.W_OK);
  } catch {
    throw new OutputObstacleError(outputDir, 'the output folder is not writable; fix its permissions or choose another --output-dir');
  }
  for (const f of files) {
    const p = join(outputDir, f);
    if (existsSync(p) && statSync(p).isDirectory()) {
      throw new OutputObstacleError(
        p,
        `is a folder, but training writes a file of this name at the end; remove or rename it before training`,
      );
    }
  }
}
