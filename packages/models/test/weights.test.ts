import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '@kdbench/engine';
import { createModel, loadWeights, saveWeights, weightsHash, type Model } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'kdbench-models-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function trainedOnce(id: string, seed: number): Promise<Model> {
  const m = createModel(id, { numClasses: 10, seed, widthFactor: 0.25 });
  // move BN running stats away from their initial values so they are part of the test
  tf.tidy(() => {
      m.forward(tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D, { training: true });
    });
  return m;
}

describe('weight files', () => {
  it('round trip gives identical outputs and hash (into a model with another seed)', async () => {
    const a = await trainedOnce('mobilenetv2', 1);
    const file = join(dir, 'sub', 'a.kdbw');
    const saved = await saveWeights(a, file);
    const bytes = await readFile(file);
    expect(saved.bytes).toBe(bytes.length);
    expect(saved.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(weightsHash(a)).toBe(saved.sha256);
    expect(bytes.subarray(0, 8).toString('ascii')).toBe('KDBTENS1');
    expect((await readdir(join(dir, 'sub'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const b = createModel('mobilenetv2', { numClasses: 10, seed: 99, widthFactor: 0.25 });
    expect(weightsHash(b)).not.toBe(saved.sha256);
    const loaded = await loadWeights(b, file);
    expect(loaded.sha256).toBe(saved.sha256);
    expect(weightsHash(b)).toBe(saved.sha256);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
    const outA = tf.tidy(() => a.forward(x, { training: false }).logits.arraySync());
    const outB = tf.tidy(() => b.forward(x, { training: false }).logits.arraySync());
    expect(outB).toEqual(outA);
    const again = await saveWeights(b, join(dir, 'b.kdbw'));
    expect(again.sha256).toBe(saved.sha256);
    x.dispose();
    a.dispose();
    b.dispose();
  });

  it('rejects truncated files, other models, other head sizes and non-weight files', async () => {
    const a = await trainedOnce('resnet8', 2);
    const file = join(dir, 'r8.kdbw');
    const { bytes } = await saveWeights(a, file);

    const cut = join(dir, 'r8-cut.kdbw');
    await writeFile(cut, (await readFile(file)).subarray(0, bytes - 10));
    await expect(loadWeights(a, cut)).rejects.toThrow(/truncated/);
    await truncate(cut, 20);
    await expect(loadWeights(a, cut)).rejects.toThrow(/truncated/);

    const other = createModel('resnet14', { numClasses: 10, seed: 0, widthFactor: 0.25 });
    await expect(loadWeights(other, file)).rejects.toThrow(/model 'resnet8', not 'resnet14'/);
    const head = createModel('resnet8', { numClasses: 11, seed: 0, widthFactor: 0.25 });
    await expect(loadWeights(head, file)).rejects.toThrow(/numClasses=10/);

    const junk = join(dir, 'junk.bin');
    await writeFile(junk, 'definitely not weights');
    await expect(loadWeights(a, junk)).rejects.toThrow(/not a kdbench weight file/);

    // a failed load leaves the model untouched
    const before = weightsHash(head);
    await expect(loadWeights(head, file)).rejects.toThrow();
    expect(weightsHash(head)).toBe(before);
    [a, other, head].forEach((m) => m.dispose());
  });
});
