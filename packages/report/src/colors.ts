/**
 * One colour per method family on every page of the site: charts (vega-lite scales built from this
 * map) and the family chips of the tables. A family missing from the map (a package added after
 * this file) gets a colour from a spare palette by a hash of its name, so it is still the same on
 * every page and every build.
 */
import { esc } from './html.js';

export const FAMILY_COLORS: Readonly<Record<string, string>> = {
  baseline: '#8c8c8c',
  response: '#4e79a7',
  feature: '#f28e2b',
  attention: '#e15759',
  relation: '#76b7b2',
  graph: '#59a14f',
  online: '#edc948',
  self: '#b07aa1',
  adversarial: '#9c755f',
  'data-free': '#ff9da7',
  'multi-teacher': '#17becf',
  'cross-modal': '#bcbd22',
  quantized: '#393b79',
  lifelong: '#637939',
  nas: '#ce6dbd',
};

const SPARE = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];

export function familyColor(family: string): string {
  const known = FAMILY_COLORS[family];
  if (known) return known;
  let h = 0;
  for (const ch of family) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return SPARE[h % SPARE.length]!;
}

/** A vega-lite colour encoding of the `family` field with the site-wide colours of the families present. */
export function familyColorEncoding(families: readonly string[]) {
  const domain = [...new Set(families)].sort();
  return { field: 'family', type: 'nominal', title: 'family', scale: { domain, range: domain.map(familyColor) } } as const;
}

/** The family name with its colour chip, as the tables print it (`label: false`: the chip alone, the name on hover). */
export function familyChip(family: string, label = true): string {
  const c = familyColor(family);
  return `<span class="fam" data-family="${esc(family)}" data-color="${c}" style="--c:${c}"${label ? '' : ` title="${esc(family)}"`}>${label ? esc(family) : ''}</span>`;
}
