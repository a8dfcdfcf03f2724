/** The paper both teacher-free KD methods (tfkdself, tfkdvirtual) come from. */
export const TFKD_PAPER = {
  authors: 'L. Yuan, F. E. H. Tay, G. Li, T. Wang, J. Feng',
  title: 'Revisiting Knowledge Distillation via Label Smoothing Regularization',
  venue: 'CVPR',
  year: 2020,
  url: 'https://arxiv.org/abs/1909.11723',
} as const;
