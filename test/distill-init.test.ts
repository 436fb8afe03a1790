/**
 * `tokentune distill --student-init select` (weight selection, Xu et al. 2024): every student
 * tensor is the leading slice of its mapped teacher tensor, indexed here by hand; a student the
 * teacher's own size gets the teacher's exact logits (selection is the identity there); what
 * cannot be selected is refused naming both sides; the CLI run logs the map and the model card says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, tidy } from '../src/engine/index.js';
import { architectureFor, initParameters, makeConfig, type TokenClassifier } from '../src/models/index.js';
import { copyLeadingSlice, selectTeacherWeights, selectionLayers } from '../src/train/distill-init.js';
import { cli, cliWork, quickTrainArgs } from './helpers/cli-run.js';

const LABELS = ['O', 'B-PER', 'I-PER'];

function build(
  shape: { layers: number; hidden: number; heads: number; inter: number; vocab?: number; type?: string },
  seed: number,
): TokenClassifier {
  const config = makeConfig({
    model_type: shape.type ?? 'bert',
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: shape.inter,
    max_position_embeddings: 64,
    vocab_size: shape.vocab ?? 50,
    ...(shape.type === 'modernbert' ? { pad_token_id: 0, bos_token_id: 1, eos_token_id: 2, cls_token_id: 1, sep_token_id: 2 } : {}),
  });
  const arch = architectureFor(config);
  return arch.build({ ...config, labels: LABELS }, initParameters(arch.paramSpecs(config, LABELS.length), 0.5, seed));
}

const f = (m: TokenClassifier, name: string): Float32Array => m.params.get(name)!.f as Float32Array;

test('copyLeadingSlice keeps [0, n) of every dimension', () => {
  const src = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  const dst = new Float32Array(2 * 2 * 3);
  copyLeadingSlice(src, [2, 3, 4], dst, [2, 2, 3]);
  const want: number[] = [];
  for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) for (let c = 0; c < 3; c++) want.push(a * 12 + b * 4 + c);
  assert.deepEqual([...dst], want);
});

test('selection: student layer i takes teacher layer g(i), the leading rows and columns of each tensor', () => {
  const teacher = build({ layers: 4, hidden: 32, heads: 2, inter: 64 }, 1);
  const student = build({ layers: 2, hidden: 16, heads: 1, inter: 32 }, 2);
  assert.deepEqual(selectionLayers(2, 4, null), [2, 4]);
  assert.match(selectTeacherWeights(student, teacher, null), /layers 1<-2, 2<-4, leading 16 of 32 hidden units, 32 of 64 intermediate/);
  const slice2d = (m: TokenClassifier, name: string, cols: number, r: number, c: number): number => f(m, name)[r * cols + c]!;
  for (const [s, t] of [
    [0, 1],
    [1, 3],
  ] as const) {
    for (const [suffix, rows, sCols, tCols] of [
      ['attention.self.query.weight', 16, 16, 32],
      ['attention.output.dense.weight', 16, 16, 32],
      ['intermediate.dense.weight', 32, 16, 32],
      ['output.dense.weight', 16, 32, 64],
    ] as const) {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < sCols; c++) {
          assert.equal(
            slice2d(student, `bert.encoder.layer.${s}.${suffix}`, sCols, r, c),
            slice2d(teacher, `bert.encoder.layer.${t}.${suffix}`, tCols, r, c),
            `${s}.${suffix}[${r}, ${c}]`,
          );
        }
      }
    }
    assert.deepEqual(
      [...f(student, `bert.encoder.layer.${s}.output.LayerNorm.weight`)],
      [...f(teacher, `bert.encoder.layer.${t}.output.LayerNorm.weight`).subarray(0, 16)],
    );
  }
  for (let v = 0; v < 50; v++) {
    assert.deepEqual(
      [...f(student, 'bert.embeddings.word_embeddings.weight').subarray(v * 16, v * 16 + 16)],
      [...f(teacher, 'bert.embeddings.word_embeddings.weight').subarray(v * 32, v * 32 + 16)],
    );
  }
  for (let l = 0; l < 3; l++) {
    assert.deepEqual(
      [...f(student, 'classifier.weight').subarray(l * 16, l * 16 + 16)],
      [...f(teacher, 'classifier.weight').subarray(l * 32, l * 32 + 16)],
    );
  }
  assert.deepEqual([...f(student, 'classifier.bias')], [...f(teacher, 'classifier.bias')]);
  // An explicit --layer-map chooses the source layers (0:0, the embeddings, is always implied).
  assert.deepEqual(
    selectionLayers(2, 4, [
      [0, 0],
      [1, 1],
      [2, 3],
    ]),
    [1, 3],
  );
  selectTeacherWeights(student, teacher, [
    [1, 1],
    [2, 3],
  ]);
  assert.deepEqual(
    [...f(student, 'bert.encoder.layer.1.attention.self.key.bias')],
    [...f(teacher, 'bert.encoder.layer.2.attention.self.key.bias').subarray(0, 16)],
  );
});

test("selection into a student of the teacher's own shape reproduces the teacher's logits exactly", () => {
  for (const type of ['bert', 'roberta', 'distilbert', 'deberta-v2']) {
    const shape = { layers: 2, hidden: 16, heads: 2, inter: 32, type };
    const teacher = build(shape, 3);
    const student = build(shape, 4);
    selectTeacherWeights(student, teacher, null);
    const batch = {
      inputIds: Int32Array.from([2, 7, 9, 11, 3, 2, 5, 3, 0, 0]),
      attentionMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
      batchSize: 2,
      seqLen: 5,
    };
    const [a, b] = tidy(() => noGrad(() => [teacher, student].map((m) => [...m.forward(batch, { training: false }).f])));
    assert.deepEqual(b, a, type);
  }
});

test('selection refuses another model type, another vocabulary, a wider student, ModernBERT', () => {
  const teacher = build({ layers: 2, hidden: 32, heads: 2, inter: 64 }, 1);
  assert.throws(
    () => selectTeacherWeights(build({ layers: 1, hidden: 16, heads: 1, inter: 32, type: 'roberta' }, 2), teacher, null),
    /student is roberta and the teacher bert/,
  );
  assert.throws(
    () => selectTeacherWeights(build({ layers: 1, hidden: 16, heads: 1, inter: 32, vocab: 60 }, 2), teacher, null),
    /vocabulary has 60 entries and the teacher's 50/,
  );
  assert.throws(
    () => selectTeacherWeights(build({ layers: 1, hidden: 48, heads: 1, inter: 32 }, 2), teacher, null),
    /must not be deeper or wider than the teacher/,
  );
  assert.throws(
    () => selectTeacherWeights(build({ layers: 3, hidden: 16, heads: 1, inter: 32 }, 2), teacher, null),
    /must not be deeper or wider/,
  );
  const mb = { layers: 1, hidden: 16, heads: 1, inter: 32, type: 'modernbert' };
  assert.throws(() => selectTeacherWeights(build(mb, 2), build({ ...mb, layers: 2 }, 1), null), /ModernBERT packs query\/key\/value/);
});

test('distill CLI --student-init select: logs the selection, names it in the model card; refused with --student', async () => {
  const w = cliWork({ trainSentences: 24 });
  try {
    // A teacher twice the width of the 1x16 student (whose feed-forward is 4 x 16 = 64).
    const teacherDir = join(w.dir, 'teacher');
    const config = JSON.parse(readFileSync(w.config, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      w.config,
      JSON.stringify({ ...config, hidden_size: 32, num_hidden_layers: 2, intermediate_size: 64, max_position_embeddings: 512 }),
    );
    const t = await cli(quickTrainArgs(w, teacherDir, ['--max-steps', '4']));
    assert.equal(t.code, 0, t.err);
    const out = join(w.dir, 'student');
    const r = await cli([
      'distill',
      '--teacher',
      teacherDir,
      '--student-config',
      '1x16',
      '--student-init',
      'select',
      '--train-file',
      w.train,
      '--output-dir',
      out,
      '--per-device-train-batch-size',
      '8',
      '--max-steps',
      '2',
      '--max-seq-length',
      '64',
      '--disable-tqdm',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /student initialised by weight selection from the teacher: layers 1<-\d/);
    assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /initialised by weight selection from the teacher/);
    const bad = await cli([
      'distill',
      '--teacher',
      teacherDir,
      '--student',
      teacherDir,
      '--student-init',
      'select',
      '--train-file',
      w.train,
      '--output-dir',
      join(w.dir, 'x'),
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--student-init select shapes a fresh student: give --student-config/);
    const typo = await cli([
      'distill',
      '--teacher',
      teacherDir,
      '--student-config',
      '1x16',
      '--student-init',
      'pca',
      '--train-file',
      w.train,
      '--output-dir',
      join(w.dir, 'y'),
    ]);
    assert.match(typo.err, /--student-init pca: expected random or select/);
  } finally {
    rmSync(w.dir, { recursive: true, force: true });
  }
});
