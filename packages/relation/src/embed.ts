/** Shape helper shared by the relation methods that put heads on the pooled embedding (CC, CRD). */

/** Width of the pooled embedding from a model's feature shapes (the 'embedding' entry). */
export function embeddingDim(shapes: readonly { name: string; channels: number }[]): number {
  const e = shapes.find((s) => s.name === 'embedding');
  if (!e) throw new Error("feature shapes have no 'embedding' entry");
  return e.channels;
}
