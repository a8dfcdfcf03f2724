/**
 * Registers kdbench's extra kernels for the tfjs wasm backend: the three convolution gradients it
 * lacks (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter/Input), faster versions of
 * Conv2DBackpropInput, Tile and BatchMatMul (transposed operands), UnsortedSegmentSum (Gather's
 * gradient), AvgPoolGrad over windows that tile the input, copy-free Identity and same-dtype Cast.
 * With the native addon built, these run natively on the wasm heap: every convolution (dense and
 * depthwise, forward and gradients), Concat / SplitV / block-swap Transpose, MaxPoolGrad and
 * AvgPoolGrad, leading-axes Sum; and kdbench's own fused kernels: training batch norm with
 * residual and ReLU (and its gradient), evaluation batch norm, SGD with momentum. Call before the
 * first use of the wasm backend; initEngine() does. Safe to call more than once.
 */
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../tf.js';
import { batchMatMulConfig } from './batch_matmul.js';
import { conv2DConfig } from './conv2d.js';
import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter.js';
import { conv2DBackpropInputConfig } from './conv2d_backprop_input.js';
import { depthwiseConv2DConfig } from './depthwise_conv2d.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise_backprop_filter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise_backprop_input.js';
import { batchNormGradConfig, batchNormTrainConfig, batchNormTrainGradConfig } from './native_batchnorm.js';
import { castConfig, identityConfig } from './identity.js';
import { concatConfig, splitVConfig, transposeConfig } from './channel_copies.js';
import { sgdMomentumConfig } from './native_sgd.js';
import { channelAffineConfig, channelAffineGradConfig } from './native_affine.js';
import { maxPoolGradConfig } from './max_pool_grad.js';
import { avgPoolGradConfig } from './avg_pool_grad.js';
import { sumConfig } from './sum.js';
import { tileConfig } from './tile.js';
import { unsortedSegmentSumConfig } from './unsorted_segment_sum.js';
import { stockKernels, type KernelConfig } from './util.js';

export { conv2D } from './conv2d.js';
export { conv2DBackpropFilter } from './conv2d_backprop_filter.js';
export { conv2DBackpropInput } from './conv2d_backprop_input.js';
export { depthwiseConv2dNativeBackpropFilter } from './depthwise_backprop_filter.js';
export { depthwiseConv2dNativeBackpropInput } from './depthwise_backprop_input.js';
export { tile } from './tile.js';
export { batchMatMul } from './batch_matmul.js';
export { unsortedSegmentSum } from './unsorted_segment_sum.js';
export { fusedChannelAffine, fusedChannelAffineAvailable } from './native_affine.js';
export { fusedSgdAvailable, fusedSgdMomentum, type SgdSlot } from './native_sgd.js';
export { fusedBatchNormAvailable, fusedBatchNormTrain, type FusedBatchNormForward, type FusedBatchNormOptions } from './native_batchnorm.js';

/** Every kernel config this module registers for the 'wasm' backend. */
export const wasmKernelConfigs: readonly KernelConfig[] = [
  conv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2DConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  tileConfig,
  batchMatMulConfig,
  unsortedSegmentSumConfig,
  batchNormTrainConfig,
  batchNormGradConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
  sumConfig,
  identityConfig,
  castConfig,
  concatConfig,
  splitVConfig,
  transposeConfig,
  sgdMomentumConfig,
  channelAffineConfig,
];

/** Names of the kernels registered (added or replaced). */
export const wasmKernelNames: readonly string[] = wasmKernelConfigs.map((k) => k.kernelName);

/**
 * Registers the configs for 'wasm', keeping the stock kernel of each replaced name so the
 * replacement can fall back to it. Idempotent. If the wasm backend is already active, setup
 * functions of the replacements run at once (tfjs only runs them on setBackend).
 */
export function registerWasmKernels(): void {
  for (const grad of [batchNormTrainGradConfig, channelAffineGradConfig]) {
    if (tf.getGradient(grad.kernelName) === undefined) tf.registerGradient(grad);
  }
  for (const config of wasmKernelConfigs) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current === config) continue;
    if (current !== undefined) {
      if (!stockKernels.has(config.kernelName)) stockKernels.set(config.kernelName, current);
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
    if (config.setupFunc && tf.engine().backendName === 'wasm') config.setupFunc(tf.backend());
  }
}

/** Restores the stock wasm kernels (for before/after benchmarks). */
export function unregisterWasmKernels(): void {
  for (const config of wasmKernelConfigs) {
    if (tf.getKernel(config.kernelName, 'wasm') !== config) continue;
    tf.unregisterKernel(config.kernelName, 'wasm');
    const stock = stockKernels.get(config.kernelName);
    if (stock === undefined) continue;
    tf.registerKernel(stock);
    if (stock.setupFunc && tf.engine().backendName === 'wasm') stock.setupFunc(tf.backend());
  }
}
