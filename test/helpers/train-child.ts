/**
 * Child process for the resume test: trains the tiny setup, saving every 4 steps, and sleeps a
 * little after each step so the parent can SIGKILL it mid-run. Args: outputDir maxSteps.
 */
import { Trainer } from '../../src/train/trainer.js';
import { tinyArgs, tinySetup } from './tiny-setup.js';

const [outputDir, maxSteps] = process.argv.slice(2);
const s = tinySetup();
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const trainer = new Trainer({
  model: s.model,
  tokenizer: s.tokenizer,
  trainDataset: s.train,
  args: tinyArgs(outputDir, { maxSteps: Number(maxSteps), saveStrategy: 'steps', saveSteps: 4 }),
  onLog: (r) => {
    if ('loss' in r) Atomics.wait(sleeper, 0, 0, 150);
  },
});
await trainer.train();
