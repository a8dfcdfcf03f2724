/**
 * CTKD, collaborative teaching: H. Zhao, X. Sun, J. Dong, C. Chen, Z. Dong, "Highlight Every Step:
 * Knowledge Distillation via Collaborative Teaching", IEEE Transactions on Cybernetics 2020
 * (arXiv:1907.09643, https://arxiv.org/abs/1907.09643).
 *
 * Two teachers. A scratch teacher of the expert's architecture is trained from scratch beside the
 * student, in the same optimisation, and hands it its logits step by step; a pre-trained expert
 * teacher, frozen and in evaluation mode, hands its spatial attention maps. The loss of a step:
 *   L = CE(z_S, y) + CE(z_sc, y) + gamma * (1/B) * sum_b sum_c (sg(z_sc)_bc - z_S_bc)^2
 *       + beta * sum_stages mean_(b, hw) (Q(g_sc) - Q(g_ex))^2,
 * z_S and z_sc the student's and the scratch teacher's logits, sg the gradient block, B the
 * configured batch size, g the stage outputs (a WRN's raw group outputs, before the final BN-ReLU)
 * of the scratch teacher and of the expert, Q AT's map: mean_c g^2, flattened, L2-normalised.
 * Source: the authors' code, HaoranZhao1988/CTKD @ 238e9fe (train.py: `h()`, the branch with
 * `--teacher_id` and `--gamma`; `resnet()`'s `f` and `group_student`; utils.py `at`, `at_loss`):
 * - the attention term pairs the expert's three group outputs with the first three of
 *   [g0, g1, g2, gs0, gs1, gs2], i.e. with the scratch teacher's groups (the expert reaches the
 *   student through the scratch teacher's logits and the layers the two nets share);
 * - the student and the scratch teacher share the stem conv (its output feeds both), and with
 *   `--param_share` also the convs of the student's blocks (the scratch teacher's convs of the same
 *   group and block index; batch norms and classifiers stay separate): hp `share`, 'none' by default
 *   as the code's `--param_share False`;
 * - the KD term `rocket_distillation` (alpha, temperature) is computed there but not added to the
 *   loss, so it is not here either.
 * The code's argparse defaults for beta and gamma are 0 (which turn both terms off) and the repository
 * has no run commands. The defaults here come from the README of the script it is a fork of
 * (train.py is Rocket-Launching's rocket_interval.py with the second teacher added; its header still
 * names rocket launching and attention transfer): zhougr1993/Rocket-Launching @ b820cc4 runs every
 * rocket (logit hint) command with gamma = 0.03 (kdbench's `rocket`) and its attention-transfer
 * command with beta = 1e+3, the weight of szagoruyko/attention-transfer's README as well (kdbench's
 * `at`, whose at_loss the script copies).
 */
import { ConfigError, SHARE_CHOICES, crossEntropy, defineMethod, logitHint, sharedConvs } from '@kdbench/core';
import { tf } from '@kdbench/engine';
import { atLoss } from './at.js';

export const ctkd = defineMethod({
  id: 'ctkd',
  title: 'CTKD: collaborative teaching (a scratch teacher\'s logits and an expert\'s attention maps)',
  paper: {
    authors: 'H. Zhao, X. Sun, J. Dong, C. Chen, Z. Dong',
    title: 'Highlight Every Step: Knowledge Distillation via Collaborative Teaching',
    venue: 'IEEE Transactions on Cybernetics',
    year: 2020,
    url: 'https://arxiv.org/abs/1907.09643',
  },
  family: 'attention',
  knowledge: 'feature', // the survey's Tables 5/6 class it RelK + FeaK
  scheme: 'offline',
  teacher: 'required',
  defaults: { gamma: 0.03, beta: 1000, share: 'none', scratch: '' },
  hyperChoices: { share: [...SHARE_CHOICES] },
  hyperDocs: {
    gamma: 'weight of the logit hint from the scratch teacher (the code\'s --gamma; 0.03 as in the Rocket-Launching README\'s rocket commands)',
    beta: 'weight of the summed attention-map losses between the scratch teacher and the expert (the code\'s --beta; 1e+3 as in the Rocket-Launching README\'s attention-transfer command)',
    share: "'none': the student and the scratch teacher share the stem conv only (the code's default); 'interval': also the convs of the student's blocks (--param_share)",
    scratch: "model id of the scratch teacher ('' = the expert teacher's architecture)",
  },
  deviations:
    'The default weights beta = 1000 and gamma = 0.03 are those of the README of the Rocket-Launching script CTKD\'s train.py is a fork of (its own argparse defaults are 0 and no run command is published). '
    + 'The scratch teacher is built on the student\'s stem conv (and block convs with share \'interval\') instead of the reverse (the same tying; the shared kernels start from the student\'s initialisation). '
    + 'Any zoo pair whose stems (and, with \'interval\', block convs) match runs, not only the code\'s pre-activation WRNs; '
    + 'zoo initialisation, and the protocol\'s schedule, augmentation and normalisation instead of the code\'s (SGD lr 0.1, x0.2 at epochs 60/120/160, reflect padding).',
  create: (ctx) => {
    const { hp, teacher } = ctx;
    if (!(hp.gamma >= 0)) throw new ConfigError(`ctkd: gamma must be >= 0, got ${hp.gamma}`);
    if (!(hp.beta >= 0)) throw new ConfigError(`ctkd: beta must be >= 0, got ${hp.beta}`);
    const shared = sharedConvs(ctx.student, hp.share, 'ctkd');
    const model = hp.scratch || teacher.id;
    let scratch: ReturnType<typeof ctx.createNetwork>;
    try {
      scratch = ctx.createNetwork('scratch', { model, widthFactor: teacher.options.widthFactor, shared });
    } catch (e) {
      throw new ConfigError(`ctkd: the scratch teacher ${model} cannot share the student ${ctx.student.id}'s convs: ${(e as Error).message}`);
    }
    return {
      procedure: { networks: { scratch: { model: scratch, trainInMain: true } } },
      parts: { scratch: { metrics: (evaluate) => ({ scratch: evaluate(scratch).top1 }) } },
      losses: (io) => {
        const out = scratch.forward(io.x, { training: true });
        const posts = (features: readonly { post: tf.Tensor4D }[]) => features.map((f) => f.post);
        return {
          ce: crossEntropy(io.student.logits, io.labels),
          'scratch/ce': crossEntropy(out.logits, io.labels),
          hint: logitHint(io.student.logits, out.logits, hp.gamma, ctx.batchSize),
          at: tf.mul(atLoss(posts(out.features), posts(io.teacher.features)), hp.beta),
        };
      },
    };
  },
});
