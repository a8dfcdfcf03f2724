/**
 * Rocket-KD (rocket launching): G. Zhou, Y. Fan, R. Cui, W. Bian, X. Zhu, K. Gai, "Rocket Launching:
 * A Universal and Efficient Framework for Training Well-performing Light Net", AAAI 2018
 * (arXiv:1708.04106, https://arxiv.org/abs/1708.04106).
 *
 * A light net (the deployed student) and a larger booster net are trained together from scratch and
 * share their lower layers. The light net learns from the labels and from the booster's logits:
 *   L = CE(z_B, y) + CE(z_L, y) + gamma * (1/B) * sum_b sum_c (sg(z_B)_bc - z_L_bc)^2,
 * z_B, z_L the booster's and the light net's logits, sg the gradient block (the booster's logits are
 * held fixed in the hint, which still reaches the shared layers through the light net), B the
 * configured batch size (not the batch's own size, so the last, smaller batch weighs a little less).
 * Source: the authors' code, zhougr1993/Rocket-Launching @ b820cc4 (rocket_interval.py: the loss of
 * the branch without a pre-trained teacher, `grad_block` True; argparse defaults), gamma = 0.03 from
 * every rocket command of its README.
 *
 * Sharing 'interval' (rocket_interval.py `group_student`, the CIFAR WRN-16-1 / WRN-40-1 runs): the
 * light net WRN-16-k runs the booster WRN-40-k's stem conv and the convs of the first (16-4)/6 = 2
 * blocks of each of its three stages (1x1 shortcut convs included), with batch norms, final batch
 * norm and classifier of its own. Here the booster is built on the student's conv kernels
 * (`createNetwork` with `shared`: each of the student's convs is the booster's conv of the same name,
 * i.e. the same stage and block index), which ties the same weights. 'none' shares only the stem
 * conv, as the code's `--param_share False` ablation does (its conv0 output feeds both nets).
 * The booster's accuracy is reported as `booster`.
 */
import { ConfigError, SHARE_CHOICES, crossEntropy, defineMethod, logitHint, sharedConvs } from '@kdbench/core';
import { listModels, type Model } from '@kdbench/models';

export const rocket = defineMethod({
  id: 'rocket',
  title: 'Rocket launching (light net and booster sharing lower layers)',
  paper: {
    authors: 'G. Zhou, Y. Fan, R. Cui, W. Bian, X. Zhu, K. Gai',
    title: 'Rocket Launching: A Universal and Efficient Framework for Training Well-performing Light Net',
    venue: 'AAAI',
    year: 2018,
    url: 'https://arxiv.org/abs/1708.04106',
  },
  family: 'online',
  knowledge: 'feature', // the survey's Tables 5/6 class it as feature knowledge (the shared lower layers)
  scheme: 'online',
  teacher: 'none',
  defaults: { gamma: 0.03, booster: 'wrn_40_1', share: 'interval' },
  hyperChoices: { booster: ['', ...listModels().map((m) => m.id)], share: [...SHARE_CHOICES] },
  hyperDocs: {
    gamma: 'weight of the logit hint (0.03 in every rocket command of the authors\' README)',
    booster: "model id of the booster net, a deeper net of the student's family and width ('' = the student's architecture: every conv shared, for smoke tests)",
    share: "'interval': the booster's convs of the student's stages and block indices are the student's (the paper's CIFAR runs); 'none': only the stem conv is shared",
  },
  deviations:
    'The booster is built on the light net\'s conv kernels instead of the reverse (the same tying; the shared kernels start from the light net\'s initialisation). '
    + 'Zoo initialisation (convs N(0, 2/(k*k*out)), batch-norm scale 1) instead of the code\'s fan-in Kaiming convs and U(0, 1) batch-norm scales; '
    + 'the protocol\'s schedule, augmentation and normalisation instead of 200 epochs with lr x0.2 at 60/120/160 and reflect padding. '
    + 'Only interval sharing (and its no-sharing ablation): the Rocket-Bottom variant (the light net as the booster\'s first two stages) is not implemented.',
  smallHyper: { booster: '' },
  create: (ctx) => {
    const { hp } = ctx;
    if (!(hp.gamma >= 0)) throw new ConfigError(`rocket: gamma must be >= 0, got ${hp.gamma}`);
    const shared = sharedConvs(ctx.student, hp.share, 'rocket');
    let booster: Model;
    try {
      booster = ctx.createNetwork('booster', { ...(hp.booster ? { model: hp.booster } : {}), shared });
    } catch (e) {
      throw new ConfigError(`rocket: the booster ${hp.booster || ctx.student.id} cannot share the light net ${ctx.student.id}'s convs: ${(e as Error).message}`);
    }
    return {
      procedure: { networks: { booster: { model: booster, trainInMain: true } } },
      parts: { booster: { metrics: (evaluate) => ({ booster: evaluate(booster).top1 }) } },
      losses: (io) => {
        const light = io.student.logits;
        const boosted = booster.forward(io.x, { training: true }).logits;
        return {
          ce: crossEntropy(light, io.labels),
          'booster/ce': crossEntropy(boosted, io.labels),
          hint: logitHint(light, boosted, hp.gamma, ctx.batchSize),
        };
      },
    };
  },
});
