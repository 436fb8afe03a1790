/**
 * The training loop, as Hugging Face's Trainer runs it for token classification: AdamW with
 * decay groups, LR schedule with warmup, gradient accumulation and clipping, evaluation and
 * checkpoints every N steps, best-model tracking, early stopping, and exact resume.
 *
 * Determinism: data order is a function of (seed, epoch) and dropout masks of (seed, step,
 * micro-batch), so a resumed run replays exactly what an uninterrupted one would have done.
 */
import { join } from 'node:path';
import { Tensor, backward, bf16Refusal, deriveSeed, ops, tidy } from '../engine/index.js';
import type { Batch } from '../data/collate.js';
import { DataLoader } from '../data/epoch-batches.js';
import { savePretrained, type TokenClassifier } from '../models/index.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { lrAt, resolveWarmup } from './lr-schedule.js';
import { AdamW } from './optimizer.js';
import { trainingArgsToDict, metricKey, type TrainingArguments } from './training-args.js';
import { planTrainingSteps, resolveStepInterval } from './step-plan.js';
import {
  evalRecord,
  predictWords,
  round,
  type ComputeMetrics,
  type EncodedSplit,
  type LogRecord,
  type WordPredictionResult,
} from './evaluation.js';
import { TrainingProgress } from './progress.js';
import { LogWriter } from './log-writer.js';
import { checkOutputWritable } from './output-check.js';
import { cleanupAtomicLeftovers } from '../io/atomic.js';
import {
  checkpointDirName,
  checkpointStep,
  latestCheckpoint,
  newTrainerState,
  rotateCheckpoints,
  serializeTrainerState,
  TRAINER_STATE_NAME,
  type TrainerState,
} from './trainer-state.js';
import { writeFileSync } from 'node:fs';
import { writeTrainingPlot } from './plot.js';
import { defaultLogdir, reportsToTensorboard, TensorBoardWriter } from './tensorboard/writer.js';

export type { EncodedSplit, LogRecord } from './evaluation.js';

export interface TrainerInit {
  model: TokenClassifier;
  args: TrainingArguments;
  tokenizer?: Tokenizer;
  trainDataset?: EncodedSplit;
  evalDataset?: EncodedSplit;
  /** Extra metrics from word-level predictions (default: seqeval-exact entity metrics). */
  computeMetrics?: ComputeMetrics;
  /** Receives every log and eval record (besides log.jsonl and the progress display). */
  onLog?: (record: LogRecord) => void;
  /** Where progress goes (default process.stderr). */
  progressStream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Replaces the training loss (distillation: src/train/distill.ts); evaluation keeps gold cross-entropy. */
  objective?: TrainingObjective;
}

/**
 * A training loss other than the gold cross-entropy. `loss` runs the forward pass of one
 * micro-batch and returns its mean over `weight(batch)` units (default: labelled tokens); a
 * step's micro-batches are weighed by those units, as the built-in loss weighs labelled tokens.
 */
export interface TrainingObjective {
  weight(batch: Batch): number;
  loss(model: TokenClassifier, batch: Batch, forward: { training: true; dropoutSeed: number; skipPadding?: boolean }): Tensor;
  /**
   * Parameters the objective trains besides the model's (distillation's hidden-state projections):
   * stepped after each model update with the same rate, saved into each checkpoint folder and
   * restored on resume; never part of the saved model.
   */
  extraState?: {
    step(lr: number, maxGradNorm: number): void;
    save(checkpointDir: string): void;
    load(checkpointDir: string): void;
  };
}

export interface TrainOutput {
  globalStep: number;
  trainingLoss: number;
  metrics: LogRecord;
  /** The checkpoint saved when training stopped on requestStop(); absent when it ran to the end. */
  interrupted?: string;
}

export class Trainer {
  readonly model: TokenClassifier;
  readonly args: TrainingArguments;
  readonly optimizer: AdamW;
  readonly logHistory: LogRecord[] = [];
  private bestMetric: number | null = null;
  private bestCheckpoint: string | null = null;
  /** Early stopping: best evaluated metric so far and evaluations left without improvement. */
  private bestEval: number | null = null;
  private patienceLeft: number | null;
  /** log.jsonl of a training run (evaluation alone writes no files). */
  private log: LogWriter | null = null;
  /** Word-level tags from the last evaluate() call. */
  lastPredictions: string[][] | null = null;
  private classWeights: Tensor | null = null;
  globalStep = 0;
  epoch = 0;
  /** The schedule's rate for a step (set when train() starts). */
  private lrFor: (step: number) => number = () => this.args.learningRate;
  private plannedSteps: number | null = null;
  private plannedEpochs: number | null = null;
  /** Set by requestStop() (e.g. on Ctrl-C): the loop saves a checkpoint after the current step and returns. */
  private stopRequested = false;
  /** The checkpoint written when a stop was requested. */
  interruptedAt: string | null = null;
  private tb: TensorBoardWriter | null | undefined;
  /** train() has started (HF: state.epoch is set), so evaluation records carry the epoch. */
  private trained = false;

  /** Asks the running train() to save a checkpoint after the current step and return early. */
  requestStop(): void {
    this.stopRequested = true;
  }

  constructor(private readonly init: TrainerInit) {
    this.model = init.model;
    this.args = init.args;
    const noBf16 = this.args.bf16 ? bf16Refusal() : null;
    if (noBf16) throw new Error(noBf16);
    this.optimizer = new AdamW(this.model.parameters(), {
      lr: this.args.learningRate,
      beta1: this.args.adamBeta1,
      beta2: this.args.adamBeta2,
      eps: this.args.adamEpsilon,
      weightDecay: this.args.weightDecay,
    });
    this.patienceLeft = this.args.earlyStoppingPatience;
  }

  private get labels(): readonly string[] {
    return this.model.config.labels;
  }

  private loader(split: EncodedSplit, train: boolean): DataLoader {
    return new DataLoader(split.features, {
      batchSize: train ? this.args.perDeviceTrainBatchSize : this.args.perDeviceEvalBatchSize,
      sampler: train ? (this.args.groupByLength ? 'length-grouped' : 'random') : 'sequential',
      seed: this.args.dataSeed ?? this.args.seed,
      padId: this.init.tokenizer?.padId ?? this.model.config.padTokenId,
    });
  }

  /** Runs `fn` with the matmul precision the arguments ask for (bf16 mixed precision or fp32). */
  private precision<T>(fn: () => T): T {
    return ops.withMatmulPrecision(this.args.bf16 ? 'bf16' : 'fp32', fn);
  }

  async train(): Promise<TrainOutput> {
    const train = this.init.trainDataset;
    if (!train || train.features.length === 0) throw new Error('train(): no training data (trainDataset is empty)');
    this.trained = true;
    const args = this.args;
    const loader = this.loader(train, true);
    const accum = args.gradientAccumulationSteps;
    const plan = planTrainingSteps({
      numBatchesPerEpoch: loader.batchesPerEpoch,
      gradientAccumulationSteps: accum,
      numTrainEpochs: args.numTrainEpochs,
      maxSteps: args.maxSteps,
    });
    const totalSteps = plan.maxSteps;
    this.plannedSteps = totalSteps;
    this.plannedEpochs = plan.numTrainEpochs;
    const warmup = resolveWarmup(args, totalSteps);
    const logEvery = resolveStepInterval(args.loggingSteps, totalSteps);
    const evalEvery = resolveStepInterval(args.evalSteps, totalSteps);
    const saveEvery = resolveStepInterval(args.saveSteps, totalSteps);
    const lrFor = (step: number): number =>
      lrAt(step, { type: args.lrSchedulerType, baseLr: args.learningRate, warmupSteps: warmup, totalSteps });
    this.lrFor = lrFor;
    this.classWeights = this.resolveClassWeights(train);

    // Obstacles to the final save are found now, not after training; a killed run's temporary
    // folders are repaired or removed (before looking for a checkpoint to resume from).
    checkOutputWritable(args.outputDir);
    cleanupAtomicLeftovers(args.outputDir);
    const resumeDir = args.resumeFromCheckpoint === true ? latestCheckpoint(args.outputDir) : args.resumeFromCheckpoint;
    if (args.resumeFromCheckpoint === true && !resumeDir)
      throw new Error(`resume_from_checkpoint: no checkpoint-* folder in ${args.outputDir}`);
    if (resumeDir) this.resume(resumeDir);
    // On resume, log records past the checkpoint (written after it by the killed run) are dropped;
    // a fresh run starts a fresh log.
    this.log = new LogWriter(args.outputDir, resumeDir ? { resumeFromStep: this.globalStep } : { fresh: true });

    const progress = new TrainingProgress({ total: totalSteps, stream: this.init.progressStream, disabled: args.disableTqdm });
    progress.start(this.globalStep);
    let lossSinceLog = 0,
      stepsSinceLog = 0,
      totalLoss = 0,
      stepsRun = 0,
      lastLr = 0,
      lastGradNorm = 0;
    let stop = this.globalStep >= totalSteps;
    const started = Date.now();

    for (let epoch = Math.floor(this.globalStep / plan.updateStepsPerEpoch); epoch < plan.numTrainEpochs && !stop; epoch++) {
      const done = this.globalStep - epoch * plan.updateStepsPerEpoch;
      const batches = loader.batchesPerEpoch;
      const it = loader.batchesForEpoch(epoch, { skip: done * accum });
      let window: Batch[] = [];
      let consumed = done * accum;
      for (const batch of it) {
        window.push(batch);
        consumed++;
        if (window.length < accum && consumed < batches) continue;
        const loss = this.precision(() => this.trainingStep(window));
        window = [];
        const lr = lrFor(this.globalStep);
        const gradNorm = this.optimizer.fusedStep(lr, args.maxGradNorm); // clip, update, zero_grad
        this.init.objective?.extraState?.step(lr, args.maxGradNorm);
        lastLr = lr;
        lastGradNorm = gradNorm;

        this.globalStep++;
        this.epoch = epoch + consumed / batches;
        lossSinceLog += loss;
        stepsSinceLog++;
        totalLoss += loss;
        stepsRun++;
        progress.update(this.globalStep, { loss, lr });

        const step = this.globalStep;
        if (args.loggingStrategy === 'steps' && (step % logEvery === 0 || (args.loggingFirstStep && step === 1))) {
          // As transformers 5's Trainer: the rate logged is the one this step's update used (read
          // before scheduler.step()), so under warmup step 1 logs 0.0.
          this.emit(
            { loss: round(lossSinceLog / stepsSinceLog), grad_norm: round(gradNorm), learning_rate: lr, epoch: round(this.epoch, 4), step },
            progress,
          );
          lossSinceLog = 0;
          stepsSinceLog = 0;
        }
        let metrics: LogRecord | null = null;
        if (args.evalStrategy === 'steps' && step % evalEvery === 0 && this.init.evalDataset) {
          metrics = this.evaluate(undefined, progress);
        }
        if (args.saveStrategy === 'steps' && step % saveEvery === 0) this.save(metrics);
        if (metrics && this.shouldStopEarly(metrics, progress)) stop = true;
        if (step >= totalSteps) stop = true;
        // Let signal handlers (Ctrl-C -> requestStop) run between steps.
        await new Promise<void>((r) => setImmediate(r));
        if (this.stopRequested && !stop) {
          const dir = join(args.outputDir, checkpointDirName(step));
          if (!(args.saveStrategy === 'steps' && step % saveEvery === 0)) this.save(null);
          this.interruptedAt = dir;
          stop = true;
        }
        if (stop) break;
      }
      if (args.loggingStrategy === 'epoch' && stepsSinceLog > 0) {
        // HF's epoch-end entry carries the last step's grad_norm and rate, as a step entry does.
        this.emit(
          {
            loss: round(lossSinceLog / stepsSinceLog),
            grad_norm: round(lastGradNorm),
            learning_rate: lastLr,
            epoch: round(this.epoch, 4),
            step: this.globalStep,
          },
          progress,
        );
        lossSinceLog = 0;
        stepsSinceLog = 0;
      }
      let metrics: LogRecord | null = null;
      if (args.evalStrategy === 'epoch' && this.init.evalDataset) metrics = this.evaluate(undefined, progress);
      if (args.saveStrategy === 'epoch') this.save(metrics);
      if (metrics && this.shouldStopEarly(metrics, progress)) stop = true;
    }
    progress.finish();
    if (this.interruptedAt) {
      this.log.close();
      this.log = null;
      return {
        globalStep: this.globalStep,
        trainingLoss: stepsRun ? round(totalLoss / stepsRun) : 0,
        metrics: {},
        interrupted: this.interruptedAt,
      };
    }

    if (args.loadBestModelAtEnd && this.bestCheckpoint) {
      loadCheckpoint(this.bestCheckpoint, this.model, this.optimizer);
      this.emit(
        {
          message: `loaded best model from ${this.bestCheckpoint} (${metricKey(args.metricForBestModel ?? 'loss')} = ${this.bestMetric})`,
          step: this.globalStep,
        },
        progress,
      );
    }
    const runtime = (Date.now() - started) / 1000;
    const summary: LogRecord = {
      train_runtime: round(runtime, 4),
      train_samples_per_second: round((stepsRun * args.perDeviceTrainBatchSize * accum) / Math.max(runtime, 1e-9), 3),
      train_steps_per_second: round(stepsRun / Math.max(runtime, 1e-9), 3),
      train_loss: stepsRun ? round(totalLoss / stepsRun) : 0,
      epoch: round(this.epoch, 4),
      step: this.globalStep,
    };
    this.emit(summary, progress);
    savePretrained(this.model, args.outputDir, this.init.tokenizer);
    writeTrainingPlot(args.outputDir, this.logHistory);
    cleanupAtomicLeftovers(args.outputDir);
    this.log.close();
    this.log = null;
    return { globalStep: this.globalStep, trainingLoss: Number(summary.train_loss), metrics: summary };
  }

  /**
   * Forward + backward over the micro-batches of one optimizer step. The loss is normalised by
   * the labelled tokens of the whole step (not per micro-batch), so accumulating 4 x 4 gives the
   * same update as one batch of 16.
   */
  private trainingStep(micro: Batch[]): number {
    const w = this.classWeights?.f;
    const weightOf = (b: Batch): number => {
      let s = 0;
      for (const y of b.labels) if (y !== -100) s += w ? w[y] : 1;
      return s;
    };
    const objective = this.init.objective;
    const counts = micro.map(objective ? (b) => objective.weight(b) : weightOf);
    const total = counts.reduce((a, b) => a + b, 0);
    let stepLoss = 0;
    micro.forEach((batch, i) => {
      if (counts[i] === 0) return;
      withMemoryHelp(batch, this.args, () =>
        tidy(() => {
          const forward = {
            training: true,
            dropoutSeed: deriveSeed(this.args.seed, 'step', this.globalStep, i),
            skipPadding: true,
          } as const;
          const mean = objective
            ? objective.loss(this.model, batch, forward)
            : (() => {
                const logits = this.model.forward(batch, forward);
                return ops.crossEntropy(logits, Tensor.from(batch.labels, [batch.labels.length]), { classWeights: this.classWeights });
              })();
          const loss = ops.scale(mean, counts[i] / total);
          stepLoss += loss.item();
          backward(loss);
        }),
      );
    });
    return stepLoss;
  }

  /** Runs the model over a split without gradients; eval_* metrics as HF's Trainer names them. */
  evaluate(split?: EncodedSplit, progress?: TrainingProgress, prefix = 'eval'): LogRecord {
    const data = split ?? this.init.evalDataset;
    if (!data) throw new Error('evaluate(): no evaluation data');
    const started = Date.now();
    const predicted = this.predictWords(data);
    this.lastPredictions = predicted.predictions;
    const rec = evalRecord(data, predicted, started, {
      prefix,
      ...(this.init.computeMetrics ? { computeMetrics: this.init.computeMetrics } : {}),
    });
    // HF's Trainer.log adds the epoch only once training has set state.epoch; predict() logs nothing.
    if (this.trained && prefix === 'eval') rec.epoch = round(this.epoch, 4);
    rec.step = this.globalStep;
    this.emit(rec, progress);
    return rec;
  }

  /** Word-level tags for every sentence of a split, and the mean loss where gold labels exist. */
  predictWords(data: EncodedSplit): WordPredictionResult {
    return predictWords(this.model, data, {
      batchSize: this.args.perDeviceEvalBatchSize,
      padId: this.init.tokenizer?.padId ?? this.model.config.padTokenId,
      bf16: this.args.bf16,
    });
  }

  private emit(rec: LogRecord, progress?: TrainingProgress): void {
    this.logHistory.push(rec);
    this.log?.write(rec);
    // HF's Trainer.predict() logs nothing, so predict_* records stay out of TensorBoard.
    if (!Object.keys(rec).some((k) => k.startsWith('predict_'))) this.tensorboard()?.logRecord(rec);
    progress?.record(rec);
    this.init.onLog?.(rec);
  }

  /** The --report-to tensorboard writer, created at the first record (null when not asked for). */
  private tensorboard(): TensorBoardWriter | null {
    if (this.tb === undefined) {
      const a = this.args;
      this.tb =
        reportsToTensorboard(a.reportTo) && a.outputDir
          ? new TensorBoardWriter(a.loggingDir ?? process.env.TENSORBOARD_LOGGING_DIR ?? join(a.outputDir, defaultLogdir()))
          : null;
    }
    return this.tb;
  }

  private metricValue(metrics: LogRecord | null): number | null {
    if (!metrics) return null;
    const v = metrics[metricKey(this.args.metricForBestModel ?? 'loss')];
    return typeof v === 'number' ? v : null;
  }

  private improves(v: number, best: number | null, threshold = 0): boolean {
    if (best === null) return true;
    const greater = this.args.greaterIsBetter ?? !(this.args.metricForBestModel ?? 'loss').endsWith('loss');
    return greater ? v > best + threshold : v < best - threshold;
  }

  private save(metrics: LogRecord | null): void {
    const dir = join(this.args.outputDir, checkpointDirName(this.globalStep));
    const v = this.metricValue(metrics);
    if (v !== null && (this.args.metricForBestModel || this.args.loadBestModelAtEnd) && this.improves(v, this.bestMetric)) {
      this.bestMetric = v;
      this.bestCheckpoint = dir;
    }
    saveCheckpoint(dir, {
      model: this.model,
      tokenizer: this.init.tokenizer,
      optimizer: this.optimizer,
      lr: this.lrFor(this.globalStep),
      baseLr: this.args.learningRate,
      seed: this.args.seed,
      trainerState: this.trainerState(),
      trainingArgs: trainingArgsToDict(this.args),
      extra: this.init.objective?.extraState?.save,
    });
    if (this.args.saveTotalLimit) rotateCheckpoints(this.args.outputDir, this.args.saveTotalLimit, this.bestCheckpoint);
  }

  /** HF's EarlyStoppingCallback: stop after `patience` evaluations without improvement beyond the threshold. */
  private shouldStopEarly(metrics: LogRecord, progress?: TrainingProgress): boolean {
    if (this.patienceLeft === null) return false;
    const v = this.metricValue(metrics);
    if (v === null) return false;
    if (this.bestEval === null || this.improves(v, this.bestEval, this.args.earlyStoppingThreshold)) {
      this.bestEval = v;
      this.patienceLeft = this.args.earlyStoppingPatience;
      return false;
    }
    this.patienceLeft!--;
    if (this.patienceLeft! > 0) return false;
    // HF stops silently; say which metric, how long and against what best value.
    const key = metricKey(this.args.metricForBestModel ?? 'loss');
    const patience = this.args.earlyStoppingPatience!;
    const threshold = this.args.earlyStoppingThreshold;
    const greater = this.args.greaterIsBetter ?? !(this.args.metricForBestModel ?? 'loss').endsWith('loss');
    const note =
      `early stopping at step ${this.globalStep}${this.plannedSteps ? ` of ${this.plannedSteps}` : ''}: ${key} ${v} has not ${greater ? 'risen above' : 'fallen below'} its best ${this.bestEval}` +
      `${threshold ? ` by more than ${threshold} (--early-stopping-threshold)` : ''} for ${patience} evaluation${patience === 1 ? '' : 's'} (--early-stopping-patience ${patience})`;
    if (progress) progress.print(note);
    else (this.init.progressStream ?? process.stderr).write(note + '\n');
    return true;
  }

  /**
   * trainer_state.json in transformers' TrainerState shape (only its fields, so that
   * TrainerState.load_from_json reads it); early stopping lives where HF keeps it, in
   * stateful_callbacks.EarlyStoppingCallback.
   */
  trainerState(): Record<string, unknown> {
    const callbacks: Record<string, unknown> = {
      TrainerControl: {
        args: { should_training_stop: false, should_epoch_stop: false, should_save: false, should_evaluate: false, should_log: false },
        attributes: {},
      },
    };
    if (this.args.earlyStoppingPatience !== null) {
      callbacks.EarlyStoppingCallback = {
        args: { early_stopping_patience: this.args.earlyStoppingPatience, early_stopping_threshold: this.args.earlyStoppingThreshold },
        attributes: {
          early_stopping_patience_counter: this.args.earlyStoppingPatience - (this.patienceLeft ?? this.args.earlyStoppingPatience),
          best_metric: this.bestEval,
        },
      };
    }
    return newTrainerState({
      best_metric: this.bestMetric,
      best_global_step: this.bestCheckpoint ? checkpointStep(this.bestCheckpoint) : null,
      best_model_checkpoint: this.bestCheckpoint,
      epoch: this.epoch,
      global_step: this.globalStep,
      log_history: this.logHistory as TrainerState['log_history'],
      logging_steps: this.args.loggingSteps,
      eval_steps: this.args.evalSteps,
      save_steps: this.args.saveSteps,
      train_batch_size: this.args.perDeviceTrainBatchSize,
      num_train_epochs: this.plannedEpochs ?? Math.ceil(this.args.numTrainEpochs),
      max_steps: this.plannedSteps ?? this.args.maxSteps,
      stateful_callbacks: callbacks,
    }) as unknown as Record<string, unknown>;
  }

  /** Trainer.save_state: trainer_state.json in output_dir. */
  saveState(): void {
    writeFileSync(join(this.args.outputDir, TRAINER_STATE_NAME), serializeTrainerState(this.trainerState() as unknown as TrainerState));
  }

  private resume(dir: string): void {
    const st = loadCheckpoint(dir, this.model, this.optimizer, { maxSteps: this.plannedSteps ?? undefined });
    this.init.objective?.extraState?.load(dir);
    this.globalStep = st.globalStep;
    this.epoch = st.epoch;
    const s = st.trainerState;
    this.bestMetric = (s.best_metric as number | null) ?? null;
    this.bestCheckpoint = (s.best_model_checkpoint as string | null) ?? null;
    for (const r of (s.log_history as LogRecord[]) ?? []) this.logHistory.push(r); // no spread: 300k records overflow the stack
    const es = (
      s.stateful_callbacks as
        | Record<string, { attributes?: { early_stopping_patience_counter?: number; best_metric?: number | null } }>
        | undefined
    )?.EarlyStoppingCallback?.attributes;
    if (es && this.args.earlyStoppingPatience !== null) {
      this.bestEval = es.best_metric ?? null;
      this.patienceLeft = this.args.earlyStoppingPatience - (es.early_stopping_patience_counter ?? 0);
    }
  }

  private resolveClassWeights(train: EncodedSplit): Tensor | null {
    const cw = this.args.classWeights;
    const n = this.labels.length;
    if (cw === null) return null;
    if (Array.isArray(cw)) {
      if (cw.length !== n)
        throw new Error(`class_weights has ${cw.length} values but the model has ${n} labels (${this.labels.join(', ')})`);
      return Tensor.from(Float32Array.from(cw), [n]).keep();
    }
    // 'balanced' as scikit-learn: total / (classes * count), over the labelled training tokens.
    const counts = new Float64Array(n);
    let total = 0;
    for (const f of train.features)
      for (const y of f.labels)
        if (y >= 0) {
          counts[y]++;
          total++;
        }
    return Tensor.from(
      Float32Array.from(counts, (c) => (c > 0 ? total / (n * c) : 0)),
      [n],
    ).keep();
  }
}

/**
 * Out-of-memory help, as the seed's troubleshooting asks: an allocation failure names the batch
 * that caused it and suggests gradient accumulation (same updates, a quarter of the activations).
 */
export function withMemoryHelp<T>(batch: { batchSize: number; seqLen: number }, args: TrainingArguments, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const msg = (e as Error).message ?? '';
    if (e instanceof RangeError && /allocation failed|Invalid typed array length|Array buffer allocation/i.test(msg)) {
      const bs = args.perDeviceTrainBatchSize;
      const smaller = Math.max(1, Math.floor(bs / 4));
      throw new Error(
        `out of memory on a batch of ${batch.batchSize} x ${batch.seqLen} tokens (per_device_train_batch_size ${bs}, max_seq_length ${args.maxSeqLength}): ` +
          `try --per-device-train-batch-size ${smaller} --gradient-accumulation-steps ${args.gradientAccumulationSteps * Math.ceil(bs / smaller)} (the same updates with less memory), or a smaller --max-seq-length (${msg})`,
      );
    }
    throw e;
  }
}
