/** Networks sharing layers (createModel's `shared`): the same variables, counted by both, freed by their owner only. */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@kdbench/engine';
import { createModel } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const opts = { numClasses: 10, seed: 1, widthFactor: 0.25 };

describe('shared variables', () => {
  it('a deeper WRN reuses the lower convs of a shallower one by name and builds the rest itself', () => {
    const light = createModel('wrn_16_1', opts);
    const convs = light.namedVariables().filter((nv) => nv.variable.rank === 4);
    // stem + 3 stages x 2 blocks x 2 convs; wrn_16_1 has no 1x1 shortcut in stage 1 and one in stages 2, 3
    expect(convs.length).toBe(1 + 12 + 2);
    const before = tf.memory().numTensors;
    const booster = createModel('wrn_40_1', { ...opts, seed: 2 }, convs);
    const own = createModel('wrn_40_1', { ...opts, seed: 2 });
    // 15 variables fewer allocated than an unshared booster
    expect(tf.memory().numTensors - before).toBe(2 * own.namedVariables().length - 15);
    const byName = new Map(booster.namedVariables().map((nv) => [nv.name, nv.variable]));
    for (const nv of convs) expect(byName.get(nv.name)).toBe(nv.variable);
    expect(byName.get('block1.layer.0.bn1.weight')).not.toBe(light.namedVariables().find((nv) => nv.name === 'block1.layer.0.bn1.weight')!.variable);
    expect(booster.paramCount()).toBe(own.paramCount());
    // variables not shared are the ones the unshared booster of the same seed draws
    const ownByName = new Map(own.namedVariables().map((nv) => [nv.name, nv.variable]));
    const deep = 'block3.layer.5.conv2.weight';
    expect(Array.from(byName.get(deep)!.dataSync())).toEqual(Array.from(ownByName.get(deep)!.dataSync()));
    booster.dispose();
    expect(convs.every((nv) => !nv.variable.isDisposed)).toBe(true);
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    expect(light.forward(x, { training: false }).logits.shape).toEqual([2, 10]);
    tf.dispose(x);
    [light, own].forEach((m) => m.dispose());
  });

  it('refuses a shared variable of another shape or one the network does not have, allocating nothing', () => {
    const light = createModel('wrn_16_1', opts);
    const wide = createModel('wrn_16_2', opts);
    const before = tf.memory().numTensors;
    expect(() => createModel('wrn_40_1', opts, wide.namedVariables().filter((nv) => nv.name === 'block1.layer.0.conv1.weight')))
      .toThrow(/shared variable 'block1.layer.0.conv1.weight' has shape \[3,3,4,8\], the layer needs \[3,3,4,4\]/);
    expect(() => createModel('resnet8', opts, light.namedVariables().filter((nv) => nv.name === 'block1.layer.0.conv1.weight')))
      .toThrow(/createModel\('resnet8'\): shared variables block1.layer.0.conv1.weight are not variables of this network/);
    expect(tf.memory().numTensors).toBe(before);
    [light, wide].forEach((m) => m.dispose());
  });
});
