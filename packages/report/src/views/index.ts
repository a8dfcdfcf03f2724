/**
 * Family views: one page per family whose rows need more than the leaderboard (bits and sizes,
 * task curves, search cost, modalities, synthesized images, graphs). Each works from rows only.
 */
import type { Leaderboard } from '../leaderboard.js';
import { boardsWith, hasFamily, type FamilyView } from './common.js';
import { quantizedPage } from './quantized.js';
import { lifelongPage } from './lifelong.js';
import { nasPage } from './nas.js';
import { crossModalPage } from './cross-modal.js';
import { dataFreePage } from './data-free.js';
import { graphPage } from './graph.js';

export const FAMILY_VIEWS: readonly FamilyView[] = [quantizedPage, lifelongPage, nasPage, crossModalPage, dataFreePage, graphPage];

/** The views that have rows on at least one leaderboard. */
export const viewsWithRows = (boards: readonly Leaderboard[]) => FAMILY_VIEWS.filter((v) => boardsWith(boards, v.family).length > 0);

/** The views with rows on this leaderboard. */
export const viewsOf = (b: Leaderboard) => FAMILY_VIEWS.filter((v) => hasFamily(b, v.family));

export { viewFile, type FamilyView, type ViewContext } from './common.js';
export { quantizedView, bitsLabel, bitsText, type QuantizedViewInput, type QuantizedViewRow, type QuantizedViewOptions } from './quantized.js';
export { lifelongView, taskForgetting, type LifelongViewRow } from './lifelong.js';
export { nasRuns, handMade, type NasRun, type NasCandidate, type HandMade } from './nas.js';
export { crossModalView, MODALITY_ORDER, type CrossModalTable, type CrossModalColumn } from './cross-modal.js';
export { dataFreeView, type DataFreeViewRow } from './data-free.js';
export { graphView, GRAPH_STRUCTURES, type GraphViewRow, type GraphStructure, type GraphRole } from './graph.js';
