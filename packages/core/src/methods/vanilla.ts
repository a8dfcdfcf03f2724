/**
 * Vanilla: the student trained from labels alone (cross-entropy). Every leaderboard's gains are
 * measured against it, and teachers are trained with it.
 */
import { defineMethod } from '../method.js';
import { crossEntropy } from '../losses/kl.js';

export const vanilla = defineMethod({
  id: 'vanilla',
  title: 'Vanilla student (labels only)',
  paper: null,
  family: 'baseline',
  knowledge: 'none',
  scheme: 'offline',
  teacher: 'none',
  defaults: {},
  hyperDocs: {},
  deviations: '',
  create: () => ({
    losses: (io) => ({ ce: crossEntropy(io.student.logits, io.labels) }),
  }),
});
