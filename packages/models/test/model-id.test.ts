import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { createModel, loadWeights, modelCounts, modelIdProblem, parseModelId, resnetBlocksPerStage, saveWeights } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('model ids with a width multiplier (resnet20@0.5)', () => {
  it('parses the zoo id and the multiplier', () => {
    expect(parseModelId('resnet20')).toEqual({ base: 'resnet20', width: 1 });
    expect(parseModelId('resnet20@0.5')).toEqual({ base: 'resnet20', width: 0.5 });
    expect(parseModelId('wrn_16_2@2')).toEqual({ base: 'wrn_16_2', width: 2 });
    expect(parseModelId('vgg8@0.125')).toEqual({ base: 'vgg8', width: 0.125 });
  });

  it('rejects unknown ids and multipliers that are malformed, out of range, 1, or not in shortest form', () => {
    expect(modelIdProblem('resnet20@0.5')).toBeNull();
    expect(modelIdProblem('resnet9@0.5', 'student')).toMatch(/^unknown model 'resnet9@0\.5' \(student\)\. Known models: resnet8, /);
    for (const bad of ['resnet20@', 'resnet20@x', 'resnet20@.5', 'resnet20@0.50', 'resnet20@5e-1', 'resnet20@-0.5', 'resnet20@0', 'resnet20@4.5', 'resnet20@0.5@0.5']) {
      expect(modelIdProblem(bad), bad).toMatch(/the width multiplier after '@' must be a number in \(0, 4\] written in its shortest form, e\.g\. resnet20@0\.5$/);
      expect(() => createModel(bad, { numClasses: 10, seed: 0 }), bad).toThrow(/width multiplier/);
    }
    expect(modelIdProblem('resnet20@1')).toBe("model 'resnet20@1': a width multiplier of 1 is the model itself; write 'resnet20'");
    for (const problem of [modelIdProblem('resnet9'), modelIdProblem('resnet20@0.50', 'teacher')]) expect(problem).not.toMatch(/\n/);
  });

  it('builds the zoo net at widthFactor x multiplier, keeping the id and the given options', () => {
    const half = createModel('resnet20@0.5', { numClasses: 10, seed: 3 });
    const direct = createModel('resnet20', { numClasses: 10, seed: 3, widthFactor: 0.5 });
    expect(half.id).toBe('resnet20@0.5');
    expect(half.options).toEqual({ numClasses: 10, seed: 3, widthFactor: 1 });
    expect(half.featureShapes().map((s) => s.channels)).toEqual([8, 8, 16, 32, 32]);
    expect([half.paramCount(), half.flops()]).toEqual([direct.paramCount(), direct.flops()]);
    // same seed and variable names: the same initial weights as the directly narrowed net
    half.namedVariables().forEach((v, i) => expect(Array.from(v.variable.dataSync())).toEqual(Array.from(direct.namedVariables()[i]!.variable.dataSync())));
    const quarter = createModel('resnet20@0.5', { numClasses: 10, seed: 3, widthFactor: 0.5 });
    expect(quarter.featureShapes().map((s) => s.channels)).toEqual([4, 4, 8, 16, 16]);
    expect(modelCounts('resnet20@0.5', { numClasses: 10, seed: 3, widthFactor: 0.5 }).params).toBe(quarter.paramCount());
    expect(() => createModel('resnet20@4', { numClasses: 10, seed: 0, widthFactor: 2 })).toThrow(/widthFactor 2 x multiplier 4 = 8 exceeds 4/);
    [half, direct, quarter].forEach((m) => m.dispose());
  });

  it('a network re-created from its id and options is the same network (what methods do for extra networks)', () => {
    const m = createModel('vgg8@0.5', { numClasses: 10, seed: 1, widthFactor: 0.25 });
    const again = createModel(m.id, m.options);
    expect(again.featureShapes()).toEqual(m.featureShapes());
    [m, again].forEach((x) => x.dispose());
  });

  it('weight files record the id with its multiplier and load only into that model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kdbench-model-id-'));
    try {
      const file = join(dir, 'w.kdbw');
      const m = createModel('resnet8@0.5', { numClasses: 10, seed: 1, widthFactor: 0.5 });
      const { sha256 } = await saveWeights(m, file);
      const same = createModel('resnet8@0.5', { numClasses: 10, seed: 2, widthFactor: 0.5 });
      expect((await loadWeights(same, file)).sha256).toBe(sha256);
      const plain = createModel('resnet8', { numClasses: 10, seed: 2, widthFactor: 0.25 });
      await expect(loadWeights(plain, file)).rejects.toThrow(/holds weights of model 'resnet8@0.5', not 'resnet8'/);
      [m, same, plain].forEach((x) => x.dispose());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('resnetBlocksPerStage knows the three-stage CIFAR ResNets only, with or without a multiplier', () => {
    expect(resnetBlocksPerStage('resnet8')).toBe(1);
    expect(resnetBlocksPerStage('resnet32@0.5')).toBe(5);
    expect(resnetBlocksPerStage('resnet32x4')).toBe(5);
    expect(resnetBlocksPerStage('resnet110')).toBe(18);
    // 50 and 152 are 6n+2, but these are the four-stage bottleneck ResNets
    for (const id of ['resnet18', 'resnet50', 'resnet152', 'resnet50@0.5', 'plaincnn18', 'wrn_16_2']) expect(resnetBlocksPerStage(id), id).toBeNull();
  });
});
