import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  checkpointDirName,
  checkpointStep,
  latestCheckpoint,
  listCheckpoints,
  newTrainerState,
  parseCheckpointDirName,
  parseTrainerState,
  readTrainerState,
  rotateCheckpoints,
  serializeTrainerState,
  writeTrainerState,
  TrainerStateError,
} from '../src/train/trainer-state.js';
import { cleanupAtomicLeftovers, writeDirAtomic, writeDirAtomicSync, writeFileAtomic } from '../src/io/atomic.js';
import { LogWriter, readLogFile, LOG_FILE_NAME } from '../src/train/log-writer.js';
import { findJsonError, parseJsonText, stringifyJsonText } from '../src/util/json-text.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tt-state-'));

// A trainer_state.json in the layout transformers writes (json.dumps(indent=2, sort_keys=True)),
// with Python's float spelling (5e-05, 1.0) and a NaN grad_norm as Python's json emits it.
const HF_STATE = `{
  "best_global_step": 4,
  "best_metric": 0.5,
  "best_model_checkpoint": "out/checkpoint-4",
  "epoch": 1.0,
  "eval_steps": 2,
  "global_step": 4,
  "is_hyper_param_search": false,
  "is_local_process_zero": true,
  "is_world_process_zero": true,
  "log_history": [
    {
      "epoch": 0.5,
      "grad_norm": NaN,
      "learning_rate": 5e-05,
      "loss": 2.1972,
      "step": 2
    },
    {
      "epoch": 0.5,
      "eval_f1": 0.5,
      "eval_loss": 1.9,
      "eval_runtime": 0.1234,
      "step": 2
    }
  ],
  "logging_steps": 2,
  "max_steps": 4,
  "num_input_tokens_seen": 0,
  "num_train_epochs": 1,
  "save_steps": 2,
  "stateful_callbacks": {
    "TrainerControl": {
      "args": {
        "should_epoch_stop": false,
        "should_evaluate": false,
        "should_log": false,
        "should_save": true,
        "should_training_stop": true
      },
      "attributes": {}
    }
  },
  "total_flos": 1234.0,
  "train_batch_size": 8,
  "trial_name": null,
  "trial_params": null
}
`;

test('parses a trainer_state.json as transformers writes it', () => {
  const s = parseTrainerState(HF_STATE, 'trainer_state.json');
  assert.equal(s.global_step, 4);
  assert.equal(s.epoch, 1);
  assert.equal(s.best_model_checkpoint, 'out/checkpoint-4');
  assert.equal(s.train_batch_size, 8);
  assert.equal(s.log_history.length, 2);
  assert.ok(Number.isNaN(s.log_history[0]!.grad_norm as number));
  assert.equal(s.log_history[0]!.learning_rate, 5e-5);
  assert.equal(s.log_history[1]!.eval_f1, 0.5);
  assert.deepEqual(Object.keys(s.stateful_callbacks), ['TrainerControl']);
  // Serialised again: same keys in the same (sorted) order, NaN kept for Python to read.
  const text = serializeTrainerState(s);
  assert.ok(text.endsWith('}\n'));
  assert.ok(text.includes('"grad_norm": NaN'));
  const keysOf = (t: string): string[] => [...t.matchAll(/^ {2}"([a-z_]+)":/gm)].map((m) => m[1]!);
  assert.deepEqual(keysOf(text), keysOf(HF_STATE));
  const again = parseTrainerState(text);
  assert.equal(again.log_history[1]!.eval_runtime, 0.1234);
  assert.ok(Number.isNaN(again.log_history[0]!.grad_norm as number));
});

test('older files without newer fields get the dataclass defaults; bad types are errors', () => {
  const s = parseTrainerState('{"global_step": 10, "log_history": [], "epoch": 2.0}');
  assert.equal(s.global_step, 10);
  assert.equal(s.best_global_step, null);
  assert.equal(s.eval_steps, 500);
  assert.deepEqual(s.stateful_callbacks, {});
  assert.throws(() => parseTrainerState('{"global_step": "10"}', 'x/trainer_state.json'), {
    message: 'x/trainer_state.json: global_step: expected int, got "10"',
  });
  assert.throws(
    () => parseTrainerState('{"log_history": [{"loss": 1}]}', 'f.json'),
    /f\.json: log_history\[0\]\.step: expected an integer/,
  );
  assert.throws(() => parseTrainerState('[1]', 'f.json'), TrainerStateError);
  assert.throws(
    () => parseTrainerState('{"global_step": 1,,}', 'f.json'),
    /f\.json:1:19: invalid JSON: expected a double-quoted property name, got ','/,
  );
});

test('write/read trainer state atomically', () => {
  const dir = tmp();
  try {
    const p = join(dir, 'sub', 'trainer_state.json');
    const st = newTrainerState({ global_step: 7, max_steps: 10, log_history: [{ step: 5, loss: 0.25, epoch: 0.5 }] });
    writeTrainerState(p, st);
    assert.deepEqual(readTrainerState(p), st);
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['trainer_state.json'], 'no temp file left');
    writeFileAtomic(p, 'x');
    assert.equal(readFileSync(p, 'utf8'), 'x');
    assert.throws(() => readTrainerState(join(dir, 'nope.json')), /nope\.json: cannot read trainer state \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('property: trainer state survives serialise/parse, NaN and Infinity included', () => {
  // JSON has no -0 (JSON.stringify(-0) is "0"), so -0 is not expected to survive.
  const num = fc.oneof(fc.double(), fc.integer()).map((x) => (Object.is(x, -0) ? 0 : x));
  const rec = fc.record({ step: fc.nat(), loss: num, note: fc.string() }).map((r) => ({ ...r }));
  fc.assert(
    fc.property(
      fc.array(rec, { maxLength: 5 }),
      fc.option(
        fc.double().map((x) => (Object.is(x, -0) ? 0 : x)),
        { nil: null },
      ),
      (history, best) => {
        const st = newTrainerState({ log_history: history, best_metric: best });
        const back = parseTrainerState(serializeTrainerState(st));
        assert.deepEqual(back, st); // deepStrictEqual treats NaN as equal to NaN and -0 apart from 0
      },
    ),
    { numRuns: 200 },
  );
});

test('json-text: errors located like a parser would, non-finite numbers round-trip', () => {
  assert.equal(findJsonError('{"a": [1, 2, {"b": null}], "c": "x\\n"}'), null);
  assert.deepEqual(findJsonError('{"a": 01}'), { offset: 7, message: "expected ',' or '}' after property value, got '1'" });
  assert.equal(findJsonError('"\\x"')?.message, 'bad escape in string');
  assert.equal(findJsonError('[1,]')?.offset, 3);
  assert.deepEqual(findJsonError('NaN'), { offset: 0, message: "unexpected 'N'" });
  assert.equal(findJsonError('NaN', true), null);
  assert.deepEqual(parseJsonText('{"s": "NaN Infinity", "v": [NaN, -Infinity, Infinity]}'), {
    s: 'NaN Infinity',
    v: [NaN, -Infinity, Infinity],
  });
  assert.equal(stringifyJsonText({ b: 1, a: [NaN] }, { sortKeys: true }), '{"a":[NaN],"b":1}');
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const text = JSON.stringify(v);
      assert.equal(findJsonError(text), null);
      assert.deepEqual(parseJsonText(text), JSON.parse(text));
    }),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(fc.string(), (s) => {
      let ok = true;
      try {
        JSON.parse(s);
      } catch {
        ok = false;
      }
      assert.equal(findJsonError(s) === null, ok, `disagrees with JSON.parse on ${JSON.stringify(s)}`);
    }),
    { numRuns: 500 },
  );
});

test('checkpoint folder names, listing and latest', () => {
  const dir = tmp();
  try {
    assert.equal(checkpointDirName(500), 'checkpoint-500');
    assert.throws(() => checkpointDirName(-1), RangeError);
    assert.equal(parseCheckpointDirName('checkpoint-12'), 12);
    assert.equal(parseCheckpointDirName('checkpoint-12.tmp-99'), null);
    assert.equal(parseCheckpointDirName('checkpoint-'), null);
    assert.equal(checkpointStep(join(dir, 'checkpoint-7')), 7);
    assert.equal(latestCheckpoint(join(dir, 'missing')), null);
    for (const n of [5, 100, 10]) mkdirSync(join(dir, checkpointDirName(n)));
    mkdirSync(join(dir, 'checkpoint-200.tmp-12345'));
    mkdirSync(join(dir, 'checkpoint-x'));
    writeFileSync(join(dir, 'checkpoint-300'), 'a file, not a folder');
    assert.deepEqual(
      listCheckpoints(dir).map((c) => c.step),
      [5, 10, 100],
    );
    assert.equal(latestCheckpoint(dir), join(dir, 'checkpoint-100'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The scenarios and expected survivors of transformers' tests/trainer/test_trainer.py
// (check_checkpoint_deletion / test_checkpoint_rotation): fake checkpoints 5..25 each time.
test('rotateCheckpoints reproduces HF _rotate_checkpoints', () => {
  const dir = tmp();
  const check = (limit: number | null, best: string | null, expected: number[]): void => {
    for (const n of [5, 10, 15, 20, 25]) mkdirSync(join(dir, checkpointDirName(n)), { recursive: true });
    rotateCheckpoints(dir, limit, best);
    assert.deepEqual(
      listCheckpoints(dir).map((c) => c.step),
      expected,
    );
  };
  try {
    check(2, null, [20, 25]);
    check(2, join(dir, 'checkpoint-5'), [5, 25]);
    // save_total_limit=1 with a best model: the newest is kept too (to resume) unless it is the best.
    check(1, join(dir, 'checkpoint-25'), [25]);
    check(1, join(dir, 'checkpoint-5'), [5, 25]);
    check(null, null, [5, 10, 15, 20, 25]);
    check(0, null, [5, 10, 15, 20, 25]);
    check(3, join(dir, 'checkpoint-15'), [15, 20, 25]);
    check(3, join(dir, 'checkpoint-10'), [10, 20, 25]);
    // A relative spelling of the same folder counts as the same checkpoint.
    const rel = join(dir, '.', 'checkpoint-10');
    check(2, rel, [10, 25]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeDirAtomic: build in a temp folder, swap in, keep the old one on failure', async () => {
  const dir = tmp();
  try {
    const final = join(dir, 'checkpoint-1');
    await writeDirAtomic(final, async (t) => {
      assert.ok(t.endsWith(`.tmp-${process.pid}`));
      writeFileSync(join(t, 'a.txt'), 'one');
    });
    assert.equal(readFileSync(join(final, 'a.txt'), 'utf8'), 'one');
    writeDirAtomicSync(final, (t) => writeFileSync(join(t, 'b.txt'), 'two'));
    assert.deepEqual(readdirSync(final), ['b.txt'], 'replaced, not merged');
    await assert.rejects(
      writeDirAtomic(final, (t) => {
        writeFileSync(join(t, 'c.txt'), 'partial');
        throw new Error('disk full');
      }),
      /disk full/,
    );
    assert.deepEqual(readdirSync(final), ['b.txt']);
    assert.deepEqual(readdirSync(dir), ['checkpoint-1'], 'no temp folders left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cleanupAtomicLeftovers restores a folder moved aside by an interrupted swap', () => {
  const dir = tmp();
  try {
    const deadPid = 2 ** 22 + 12345; // above Linux's default pid_max range: not a live process
    mkdirSync(join(dir, `checkpoint-4.old-${deadPid}`));
    writeFileSync(join(dir, `checkpoint-4.old-${deadPid}`, 'x'), '1');
    mkdirSync(join(dir, `checkpoint-4.tmp-${deadPid}`));
    mkdirSync(join(dir, `checkpoint-8.tmp-${deadPid}`));
    const actions = cleanupAtomicLeftovers(dir);
    assert.equal(actions.length, 3);
    assert.deepEqual(readdirSync(dir).sort(), ['checkpoint-4']);
    assert.equal(readFileSync(join(dir, 'checkpoint-4', 'x'), 'utf8'), '1');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LogWriter appends JSON lines, survives reopening, repairs a cut-off line, truncates on resume', () => {
  const dir = tmp();
  try {
    const out = join(dir, 'run');
    const w = new LogWriter(out);
    w.append({ step: 1, loss: 2.5, learning_rate: 5e-5, epoch: 0.1 });
    w.write({ step: 2, loss: NaN });
    w.close();
    assert.throws(() => w.append({ step: 3 }), /closed/);
    const path = join(out, LOG_FILE_NAME);
    assert.equal(readFileSync(path, 'utf8'), '{"step":1,"loss":2.5,"learning_rate":0.00005,"epoch":0.1}\n{"step":2,"loss":NaN}\n');

    const w2 = LogWriter.open(out);
    w2.append({ step: 3, eval_f1: 0.5 });
    w2.close();
    assert.deepEqual(
      readLogFile(path).records.map((r) => r.step),
      [1, 2, 3],
    );
    assert.ok(Number.isNaN(readLogFile(path).records[1]!.loss as number));

    appendFileSync(path, '{"step":4,"lo'); // killed mid-write
    assert.equal(readLogFile(path).truncatedTail, true);
    const w3 = new LogWriter(out);
    w3.close();
    assert.equal(readLogFile(path).truncatedTail, false);
    assert.deepEqual(
      readLogFile(path).records.map((r) => r.step),
      [1, 2, 3],
    );

    const w4 = new LogWriter(out, { resumeFromStep: 1 });
    w4.append({ step: 2, loss: 1 });
    w4.close();
    assert.deepEqual(
      readLogFile(path).records.map((r) => [r.step, r.loss]),
      [
        [1, 2.5],
        [2, 1],
      ],
    );

    writeFileSync(path, '{"step":1}\nnot json\n');
    assert.throws(() => readLogFile(path), new RegExp(`${LOG_FILE_NAME}:2: not a JSON record`));
    assert.equal(existsSync(join(dir, 'nothing', LOG_FILE_NAME)), false);
    assert.deepEqual(readLogFile(join(dir, 'nothing', LOG_FILE_NAME)), { records: [], truncatedTail: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
