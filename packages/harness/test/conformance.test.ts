/**
 * Conformance: every registered method, the moment it is registered, trains for two steps per
 * stage on real CIFAR-10 images with small models and must give finite losses, move the student
 * and every module it declares, keep the tensor count flat, repeat itself under a seed, and carry
 * complete metadata. The checks are the conformance kit of `@kdbench/core/testing`
 * (packages/core/src/testing/conformance.ts), which a method author can run on one method.
 */
import { describeConformance } from '@kdbench/core/testing/vitest';
import { registry } from '../src/registry.js';
import { dataDir } from './paths.js';

describeConformance(registry.list(), { dataDir });
