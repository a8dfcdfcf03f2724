/**
 * The backend resolver on this machine: tfjs-node(-gpu) are not installed, so 'auto' lands on
 * wasm and says why; explicit choices work or fail with a clear message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND_NAMES, engineInfo, initEngine, tf, wasmKernelNames, type BackendRequest } from '../src/index.js';

afterEach(() => {
  delete process.env.KDBENCH_BACKEND;
});

describe('initEngine', () => {
  it("'auto' picks wasm and explains that tfjs-node is not installed", async () => {
    const info = await initEngine();
    console.log(info);
    expect(info.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.requested).toBe('auto');
    expect(info.reason).toMatch(/tfjs-node is not installed/);
    expect(info.attempts.map((a) => [a.backend, a.ok])).toEqual([
      ['tensorflow-gpu', false], ['tensorflow', false], ['wasm', true],
    ]);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(typeof info.simd).toBe('boolean');
    expect(engineInfo()).toBe(info);
    for (const name of wasmKernelNames) expect(tf.getKernel(name, 'wasm')).toBeDefined();
  });

  it('is idempotent for the same request', async () => {
    const a = await initEngine({ backend: 'auto' });
    const b = await initEngine({ backend: 'auto' });
    expect(b).toBe(a);
  });

  it("explicit 'cpu' works, then 'wasm' switches back", async () => {
    const cpu = await initEngine({ backend: 'cpu' });
    expect(cpu.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(cpu.reason).toMatch(/requested explicitly/);
    expect(cpu.threads).toBe(1);
    const wasm = await initEngine({ backend: 'wasm' });
    expect(wasm.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('KDBENCH_BACKEND selects when no backend is given', async () => {
    process.env.KDBENCH_BACKEND = 'cpu';
    const info = await initEngine();
    expect(info.backend).toBe('cpu');
    expect(info.reason).toMatch(/KDBENCH_BACKEND=cpu/);
    await initEngine({ backend: 'wasm' });
  });

  it("explicit 'tensorflow' throws naming the package and how to install it", async () => {
    await expect(initEngine({ backend: 'tensorflow' })).rejects.toThrow(
      /backend 'tensorflow' is not available: @tensorflow\/tfjs-node is not installed.*npm install @tensorflow\/tfjs-node/,
    );
  });

  it("explicit 'tensorflow-gpu' throws with the CUDA requirements", async () => {
    await expect(initEngine({ backend: 'tensorflow-gpu' })).rejects.toThrow(/tfjs-node-gpu.*CUDA 11\.2, cuDNN 8\.1/);
  });

  it('unknown names throw listing the valid ones', async () => {
    await expect(initEngine({ backend: 'webgpu' as BackendRequest })).rejects.toThrow(
      /unknown backend 'webgpu'; valid names are auto, tensorflow-gpu, tensorflow, wasm, cpu/,
    );
    process.env.KDBENCH_BACKEND = 'gpu';
    await expect(initEngine()).rejects.toThrow(/'gpu' \(from KDBENCH_BACKEND\)/);
    expect(BACKEND_NAMES).toContain('wasm');
  });
});
