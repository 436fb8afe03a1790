// The TrainingArguments record: Hugging Face Trainer's settings (same names and defaults, camelCase
// in TS) plus run_ner.py's model/data options and tokentune's extras. Its defaults, types and help
// are in training-options.ts; validation and derived values in training-args.ts.

export type IntervalStrategy = 'no' | 'steps' | 'epoch';
export type LrSchedulerType = 'linear' | 'cosine' | 'constant' | 'constant_with_warmup';
export type ClassWeights = null | number[] | 'balanced';
export type OptimizerName = 'adamw_torch' | 'adamw_hf' | 'adamw_torch_fused';

export interface TrainingArguments {
  // Output
  outputDir: string;
  overwriteOutputDir: boolean;
  doTrain: boolean;
  doEval: boolean;
  doPredict: boolean;
  // Training loop
  numTrainEpochs: number;
  maxSteps: number;
  perDeviceTrainBatchSize: number;
  perDeviceEvalBatchSize: number;
  gradientAccumulationSteps: number;
  seed: number;
  dataSeed: number | null;
  groupByLength: boolean;
  /** bf16 mixed precision: matmuls in bfloat16 with float32 accumulation and float32 master weights. */
  bf16: boolean;
  classWeights: ClassWeights;
  threads: number | null;
  // Optimizer
  optim: OptimizerName;
  learningRate: number;
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  maxGradNorm: number;
  // Learning-rate schedule
  lrSchedulerType: LrSchedulerType;
  warmupSteps: number;
  warmupRatio: number;
  // Logging and evaluation
  evalStrategy: IntervalStrategy;
  /** Resolved: equals loggingSteps when not given (as HF). Values below 1 are ratios of max steps. */
  evalSteps: number;
  loggingStrategy: IntervalStrategy;
  loggingSteps: number;
  loggingFirstStep: boolean;
  /** Where logs go besides log.jsonl: 'tensorboard' / 'all' (event files) or 'none' (transformers 5's default). */
  reportTo: string;
  /** Folder of the TensorBoard event files; null: output_dir/runs/<date>_<host> (transformers' default_logdir). */
  loggingDir: string | null;
  disableTqdm: boolean;
  // Checkpoints
  saveStrategy: IntervalStrategy;
  saveSteps: number;
  saveTotalLimit: number | null;
  loadBestModelAtEnd: boolean;
  /** As given ('f1' or 'eval_f1'); 'loss' when loadBestModelAtEnd and not given. See metricKey(). */
  metricForBestModel: string | null;
  /** Resolved from metricForBestModel when not given: false for names ending in 'loss'. */
  greaterIsBetter: boolean | null;
  /** A checkpoint folder, or true for the latest checkpoint in outputDir. */
  resumeFromCheckpoint: string | true | null;
  earlyStoppingPatience: number | null;
  earlyStoppingThreshold: number;
  // Model (run_ner.py ModelArguments)
  modelNameOrPath: string | null;
  configName: string | null;
  tokenizerName: string | null;
  ignoreMismatchedSizes: boolean;
  /** null: decided from the vocabulary when training from scratch (a vocab with capitals is cased). */
  doLowerCase: boolean | null;
  // Data (run_ner.py DataTrainingArguments)
  taskName: string;
  datasetName: string | null;
  datasetConfigName: string | null;
  trainFile: string | null;
  validationFile: string | null;
  testFile: string | null;
  textColumnName: string | null;
  labelColumnName: string | null;
  maxSeqLength: number;
  stride: number;
  padToMaxLength: boolean;
  labelAllTokens: boolean;
  returnEntityLevelMetrics: boolean;
  maxTrainSamples: number | null;
  maxEvalSamples: number | null;
  maxPredictSamples: number | null;
  /** A file of label names, one per line (id order), for data with integer tags. */
  labelNames: string | null;
}

/** Before resolution evalSteps may be unset. */
export type RawTrainingArguments = Omit<TrainingArguments, 'evalSteps'> & { evalSteps: number | null };
