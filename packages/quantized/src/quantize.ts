/**
 * `quantize(model, bits)`: a fake-quantised view of any zoo model, itself a Model. Its forward is
 * the inner model's forward with layer hooks (packages/models/src/layers/hooks.ts) that replace
 * - every conv/linear weight by its fake-quantised value (quantizer.ts: symmetric per output
 *   channel, TWN ternary at 2 bits), with the straight-through estimator, so the optimiser updates
 *   the full-precision shadow weights of the inner model;
 * - every conv/linear input by its fake-quantised value (per tensor, PACT clip learned per layer):
 *   unsigned where the input is non-negative (after a ReLU), signed otherwise (the image, inputs
 *   that follow a residual addition without ReLU, MobileNetV2's linear bottlenecks).
 * Training and evaluation both see quantised weights and activations; batch norm stays in fp32
 * (not folded into the weights).
 *
 * The first conv (whose input is the image) and the last linear layer (the classifier) are
 * quantised at no less than `edgeBits` (default 8), weights and inputs: the common practice of
 * integer deployment (8-bit first and last layers, as in LSQ, Esser et al., ICLR 2020, and integer-only
 * inference, Jacob et al., CVPR 2018). `edgeBits: 32` keeps them in full precision instead, as
 * Polino et al. and Apprentice did.
 *
 * Which inputs are signed is found once, at construction, by a probe forward pass on a seeded random
 * batch: an input with a negative value there is signed (post-ReLU inputs never are).
 * A clip starts at 0, meaning "not set": the first forward pass sets it to the max |x| of its batch
 * (QKD's min/max initialisation of trainable ranges), and it is learned from then on (PACT): a
 * trainable variable of the wrapper, optimised with the student's SGD, weight decay included (PACT
 * regularises the clip with L2 too). A restored checkpoint holds set clips, which are kept.
 *
 * Model size in bytes (`modelBytes`): each quantised conv/linear weight at its bit width, packed
 * (ceil(n * b / 8) per tensor, 2 bits per ternary weight), plus one fp32 scale per output channel;
 * full-precision weights 4 bytes each; biases 4 bytes each; batch norm in fp32 as its inference
 * affine (scale and shift, 8 bytes per channel: gamma and beta counted, the running statistics fold
 * into them); one fp32 clip per quantised activation. At 32 bits this is 4 * paramCount().
 *
 * The wrapper does not own the inner model: `dispose()` frees only the clips.
 */
import { tf } from '@kdbench/engine';
import type { FeatureShape, ForwardHooks, ForwardOptions, ForwardResult, HookedLayer, Model, NamedVariable } from '@kdbench/models';
import { checkBits, fakeQuantActivation, fakeQuantWeight, FULL_PRECISION } from './quantizer.js';

export interface QuantizeOptions {
  /** Weight bits (2 = ternary; 32 = full precision). */
  readonly weightBits: number;
  /** Activation bits (32 = full precision). */
  readonly activationBits: number;
  /** Lowest bit width of the first conv and the last linear layer (default 8; 32 = full precision). */
  readonly edgeBits?: number;
}

export interface QuantizedLayer {
  readonly name: string;
  readonly kind: HookedLayer;
  /** Whether the layer's input takes negative values (signed activation grid). */
  readonly signedInput: boolean;
  readonly weightBits: number;
  readonly activationBits: number;
  readonly weightShape: readonly number[];
}

export interface SizeBreakdown {
  /** Packed quantised weights (or 4 bytes per weight at full precision). */
  readonly weights: number;
  /** fp32 per-output-channel weight scales. */
  readonly scales: number;
  /** Biases and batch-norm affines in fp32. */
  readonly fp32: number;
  /** fp32 activation clips. */
  readonly clips: number;
  readonly total: number;
}

export interface QuantizedModel extends Model {
  readonly inner: Model;
  readonly bits: Required<QuantizeOptions>;
  readonly layers: readonly QuantizedLayer[];
  /** The run's configuration as a label: W4A4, W2A8 (ternary weights), FP32. */
  readonly label: string;
  modelBytes(): number;
  sizeBreakdown(): SizeBreakdown;
}

/** Clips are kept above this, so a clip pushed to zero cannot divide by zero. */
const CLIP_FLOOR = 1e-4;
const PROBE_SEED = 20180501;

/** Layer names, kinds, weight shapes and input signs of a model, from one eval-mode probe pass. */
function probeLayers(model: Model): { name: string; kind: HookedLayer; signed: boolean; shape: number[] }[] {
  const found = new Map<string, { name: string; kind: HookedLayer; signed: boolean; shape: number[] }>();
  const entry = (name: string, kind: HookedLayer) => {
    let e = found.get(name);
    if (!e) found.set(name, (e = { name, kind, signed: false, shape: [] }));
    return e;
  };
  tf.tidy(() => {
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', PROBE_SEED) as tf.Tensor4D;
    const hooks: ForwardHooks = {
      input: (layer, t, kind) => {
        const e = entry(layer, kind);
        e.signed = e.signed || tf.min(t).dataSync()[0]! < 0;
        return t;
      },
      weight: (layer, w, kind) => {
        entry(layer, kind).shape = [...w.shape];
        return w;
      },
    };
    model.forward(x, { training: false, hooks });
  });
  return [...found.values()];
}

function bitsLabel(w: number, a: number): string {
  if (w >= FULL_PRECISION && a >= FULL_PRECISION) return 'FP32';
  return `W${w >= FULL_PRECISION ? 32 : w}A${a >= FULL_PRECISION ? 32 : a}`;
}

class QuantizedWrapper implements QuantizedModel {
  readonly id: string;
  readonly options: Model['options'];
  readonly bits: Required<QuantizeOptions>;
  readonly layers: readonly QuantizedLayer[];
  readonly label: string;
  private readonly byName = new Map<string, QuantizedLayer>();
  private readonly clips = new Map<string, tf.Variable>();
  private readonly clipsSet = new Set<string>();
  private disposed = false;

  constructor(readonly inner: Model, opts: QuantizeOptions) {
    const edgeBits = opts.edgeBits ?? 8;
    checkBits(opts.weightBits, 'quantize: weightBits');
    checkBits(opts.activationBits, 'quantize: activationBits');
    checkBits(edgeBits, 'quantize: edgeBits');
    if (edgeBits === 2) throw new Error('quantize: edgeBits must be at least 3 (the first and last layers are not ternarised)');
    this.bits = { weightBits: opts.weightBits, activationBits: opts.activationBits, edgeBits };
    this.id = inner.id;
    this.options = inner.options;
    this.label = bitsLabel(opts.weightBits, opts.activationBits);

    const probed = probeLayers(inner);
    const firstConv = probed.find((l) => l.kind === 'conv')?.name;
    const lastLinear = probed.filter((l) => l.kind === 'linear').at(-1)?.name;
    const atLeastEdge = (b: number) => (b >= FULL_PRECISION ? b : Math.max(b, edgeBits));
    this.layers = probed.map((l) => {
      const edge = l.name === firstConv || l.name === lastLinear;
      return {
        name: l.name, kind: l.kind, signedInput: l.signed, weightShape: l.shape,
        weightBits: edge ? atLeastEdge(opts.weightBits) : opts.weightBits,
        activationBits: edge ? atLeastEdge(opts.activationBits) : opts.activationBits,
      };
    });
    for (const l of this.layers) {
      this.byName.set(l.name, l);
      if (l.activationBits < FULL_PRECISION) this.clips.set(l.name, tf.variable(tf.scalar(0), true));
    }
  }

  forward(x: tf.Tensor4D, opts: ForwardOptions): ForwardResult {
    if (this.disposed) throw new Error(`quantize(${this.id}): forward on a disposed wrapper`);
    const outer = opts.hooks;
    const hooks: ForwardHooks = {
      weight: (name, w, kind) => {
        const v = outer?.weight ? outer.weight(name, w, kind) : w;
        return fakeQuantWeight(v, this.layer(name).weightBits);
      },
      input: (name, t, kind) => {
        const v = outer?.input ? outer.input(name, t, kind) : t;
        const l = this.layer(name);
        if (l.activationBits >= FULL_PRECISION) return v;
        return fakeQuantActivation(v, this.clipOf(name, v), l.activationBits, l.signedInput);
      },
      batchNorm: outer?.batchNorm,
    };
    return this.inner.forward(x, { ...opts, hooks });
  }

  private layer(name: string): QuantizedLayer {
    const l = this.byName.get(name);
    if (!l) throw new Error(`quantize(${this.id}): layer '${name}' was not seen by the probe pass`);
    return l;
  }

  /** The layer's clip (floored), set from this batch's max |x| on first use. */
  private clipOf(name: string, x: tf.Tensor): tf.Tensor {
    const v = this.clips.get(name)!;
    if (!this.clipsSet.has(name)) {
      if (!(v.dataSync()[0]! > 0)) {
        const m = tf.tidy(() => tf.max(tf.abs(x)).dataSync()[0]!);
        tf.tidy(() => v.assign(tf.scalar(m > CLIP_FLOOR ? m : 1)));
      }
      this.clipsSet.add(name);
    }
    return tf.maximum(v, CLIP_FLOOR);
  }

  trainableVariables(): tf.Variable[] {
    return [...this.inner.trainableVariables(), ...this.clips.values()];
  }

  classifierVariables(): tf.Variable[] {
    return this.inner.classifierVariables();
  }

  namedVariables(): NamedVariable[] {
    return [
      ...this.inner.namedVariables(),
      ...[...this.clips].map(([name, variable]) => ({ name: `quant.${name}.clip`, variable, trainable: true })),
    ];
  }

  paramCount(): number {
    return this.inner.paramCount() + this.clips.size;
  }

  flops(): number {
    return this.inner.flops();
  }

  featureShapes(): FeatureShape[] {
    return this.inner.featureShapes();
  }

  sizeBreakdown(): SizeBreakdown {
    let weights = 0;
    let scales = 0;
    let fp32 = 0;
    for (const nv of this.inner.namedVariables()) {
      const layer = nv.name.endsWith('.weight') ? this.byName.get(nv.name.slice(0, -'.weight'.length)) : undefined;
      if (layer) {
        const b = layer.weightBits;
        if (b >= FULL_PRECISION) {
          weights += 4 * nv.variable.size;
        } else {
          weights += Math.ceil((nv.variable.size * b) / 8);
          scales += 4 * nv.variable.shape[nv.variable.rank - 1]!;
        }
      } else if (nv.trainable) {
        fp32 += 4 * nv.variable.size; // biases, batch-norm gamma and beta
      } // batch-norm running statistics fold into gamma and beta: no extra bytes
    }
    const clips = 4 * this.clips.size;
    return { weights, scales, fp32, clips, total: weights + scales + fp32 + clips };
  }

  modelBytes(): number {
    return this.sizeBreakdown().total;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.clips.values()) v.dispose();
    this.clips.clear();
  }
}

/** A fake-quantised view of `model` (see the file comment); the caller keeps owning `model`. */
export function quantize(model: Model, opts: QuantizeOptions): QuantizedModel {
  return new QuantizedWrapper(model, opts);
}
