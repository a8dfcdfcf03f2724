/**
 * @kdbench/data-free: data-free distillation (survey section 5.6). Every method declares
 * `data: 'none'`: the trainer gives it no training image and no label, only the teacher and a budget
 * (the main stage's epochs x steps); it supplies the student's inputs through its procedure's
 * `syntheticBatch`, and its `synthesis` part reports `synthesis_seconds` and `images_generated` and
 * writes `synthesis.png`, a grid of its synthesised images, into the run's folder
 * (`saveSynthesisGrid` for any file).
 */
import type { MethodDefinition } from '@kdbench/core';
import { dafl } from './dafl.js';
import { deepinv } from './deepinv.js';
import { dfad } from './dfad.js';
import { zskt } from './zskt.js';

export { dafl, daflLosses } from './dafl.js';
export { deepinv, roll2d, totalVariation, bnStatisticDistance, competitionTerm, runningStatistics } from './deepinv.js';
export { dfad, logitMAE } from './dfad.js';
export { zskt, beliefDivergence, attentionTerm } from './zskt.js';
export { encodePng, crc32, imageGrid, saveSynthesisGrid, synthesisArtifact, type ImageSource } from './png.js';
export { generatorGame, type GeneratorGame, type GeneratorHyper } from './shared/generator-game.js';
export { Synthesis, SynthesisMeter, synthesisOf } from './shared/synthesis.js';

export const dataFreeMethods: MethodDefinition<any>[] = [dafl, deepinv, dfad, zskt];
