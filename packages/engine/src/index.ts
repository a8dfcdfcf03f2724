/**
 * @kdbench/engine: the shared TensorFlow.js instance, the backend resolver (initEngine), the
 * extra wasm kernels, seeded random numbers, and the tensor file format (tensor-file.ts).
 */
export * from './tf.js';
export * from './rng.js';
export * from './backend.js';
export * from './kernels/wasm/index.js';
export * from './tensor-file.js';
export * from './lock-file.js';
export {
  kernelSetName, nativeCallCounts, nativeNotice, nativeStatus, resetNativeCallCounts, setNativeEnabled, NATIVE_ADDON_FILE, type NativeStatus,
} from './native/addon.js';
