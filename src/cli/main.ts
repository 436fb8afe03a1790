/** The `tokentune` command: dispatches to one module per command. */
import { CliArgsError } from './args.js';
import type { Command, CommandIO } from './io.js';
import { VERSION } from '../version.js';

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  train: { summary: 'fine-tune a model (Trainer flags or a JSON/YAML config)', load: async () => (await import('./train.js')).runTrain },
  distill: {
    summary: 'train a small student tagger to imitate a fine-tuned teacher (soft targets, unlabelled text)',
    load: async () => (await import('./distill.js')).runDistill,
  },
  evaluate: {
    summary: 'precision, recall, F1 and accuracy of a model on labelled data',
    load: async () => (await import('./evaluate.js')).runEvaluate,
  },
  predict: {
    summary: 'tag text (--text) or a file (--file), with character offsets',
    load: async () => (await import('./predict.js')).runPredict,
  },
  score: {
    summary: 'conlleval-compatible scoring of a column file (gold and predicted tags)',
    load: async () => (await import('./score.js')).runScore,
  },
  serve: { summary: 'HTTP server with a JSON API and a web page', load: async () => (await import('./serve.js')).runServe },
  export: {
    summary: 'write the model as ONNX (onnx/model.onnx) with config and tokenizer files, for onnxruntime and transformers.js',
    load: async () => (await import('./export.js')).runExport,
  },
  worker: {
    summary: 'tag a Redis stream as one worker of a consumer group (batch tagging over many machines)',
    load: async () => (await import('./worker.js')).runWorker,
  },
  enqueue: {
    summary: 'push a txt/jsonl/conll file onto a Redis stream, one message per record',
    load: async () => (await import('./enqueue.js')).runEnqueue,
  },
  collect: {
    summary: "wait for a stream's results and write them in input order (predict's jsonl)",
    load: async () => (await import('./collect.js')).runCollect,
  },
  quantize: {
    summary: 'int8 dynamic quantization of the linear layers into a folder that loads like any model',
    load: async () => (await import('./quantize.js')).runQuantize,
  },
  demo: {
    summary: 'generate data, train a small BERT offline, evaluate, tag a sentence',
    load: async () => (await import('./demo.js')).runDemo,
  },
};

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'Usage: tokentune <command> [options]   (tokentune <command> --help for its options)',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(w)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[], io: CommandIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.stdout.write(usage() + '\n');
    return cmd ? 0 : 2;
  }
  if (cmd === '--version') {
    io.stdout.write(`tokentune ${VERSION}\n`);
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    io.stderr.write(`tokentune: unknown command '${cmd}'\n${usage()}\n`);
    return 2;
  }
  try {
    return await (await c.load())(rest, io);
  } catch (e) {
    const err = e as Error;
    io.stderr.write(`tokentune ${cmd}: ${err.message}\n`);
    if (process.env.TOKENTUNE_DEBUG) io.stderr.write(`${err.stack}\n`);
    return e instanceof CliArgsError ? 2 : 1;
  }
}
