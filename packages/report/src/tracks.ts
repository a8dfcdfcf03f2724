/**
 * Boards of their own: families whose numbers are not comparable with offline KD on the same
 * footing rank on a separate board of the same dataset and protocol, each with the references a
 * reader needs beside them. Every other family ranks on the main board.
 * - data-free: the students never see a training image; references: the teacher and the vanilla
 *   student trained on the real images (the published data-free table's Teacher and Student rows).
 * - lifelong: class-incremental tasks; references: fine-tuning (lower bound) and joint training on
 *   all classes (upper bound), both of the lifelong family.
 * - quantized: fake-quantised students; references: the full-precision vanilla and KD students.
 */
export type Track = 'main' | 'data-free' | 'lifelong' | 'quantized';

export interface TrackInfo {
  track: Track;
  /** Heading of the board ("data-free board"). */
  title: string;
  /** One line under the heading: what the board ranks and against what. */
  blurb: string;
  /** Methods shown first as references and not ranked; taken from the main rows when not of the track's family. */
  references: readonly string[];
  /** Whether the board shows the stored teachers' accuracy as a reference row. */
  teacherRow: boolean;
}

export const TRACKS: Readonly<Record<Track, TrackInfo>> = {
  main: {
    track: 'main', title: 'leaderboard', references: ['vanilla'], teacherRow: true,
    blurb: 'Methods that train a student on the training images against the same teacher, ranked together; the teacher and the vanilla student (labels only) come first as references.',
  },
  'data-free': {
    track: 'data-free', title: 'data-free board', references: ['vanilla'], teacherRow: true,
    blurb: 'Students distilled without a single training image, beside the teacher they invert and the vanilla student trained on the real images.',
  },
  lifelong: {
    track: 'lifelong', title: 'lifelong board', references: ['finetune', 'joint'], teacherRow: false,
    blurb: 'Class-incremental learning over a sequence of tasks: final accuracy on all classes, between fine-tuning (lower bound) and joint training on all classes at once (upper bound).',
  },
  quantized: {
    track: 'quantized', title: 'quantized board', references: ['vanilla', 'kd'], teacherRow: true,
    blurb: 'Fake-quantised students at reduced bit widths, beside the full-precision vanilla and KD students of the same architecture.',
  },
};

/** The board a row of this family ranks on. */
export function trackOf(family: string): Track {
  return family === 'data-free' || family === 'lifelong' || family === 'quantized' ? family : 'main';
}
