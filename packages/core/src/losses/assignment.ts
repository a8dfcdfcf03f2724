/**
 * The linear sum assignment problem: given an n x m cost matrix with n <= m, give each row its own
 * column so that the summed cost is smallest. MGD (Yue et al., ECCV 2020) matches student to
 * teacher channels this way; its code calls OR-tools' LinearSumAssignment.
 *
 * Solved by the Hungarian method with row and column potentials, adding one row at a time along a
 * shortest augmenting path (Kuhn 1955, Munkres 1957; the O(n^2 m) form of Jonker & Volgenant 1987).
 * Ties are broken by the lowest column index, so the answer depends only on the matrix.
 */

/** Sum of cost[r][columns[r]] over the rows of a row-major n x m matrix. */
export function assignmentCost(cost: ArrayLike<number>, cols: number, columns: ArrayLike<number>): number {
  let sum = 0;
  for (let r = 0; r < columns.length; r++) sum += cost[r * cols + columns[r]!]!;
  return sum;
}

/**
 * The column of each row in a cheapest assignment of the row-major `rows` x `cols` matrix `cost`
 * (rows <= cols; every column used at most once). Throws on a bad shape or a non-finite cost.
 */
export function linearSumAssignment(cost: ArrayLike<number>, rows: number, cols: number): Int32Array {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new Error(`linearSumAssignment: rows and cols must be non-negative integers, got ${rows} x ${cols}`);
  }
  if (rows > cols) throw new Error(`linearSumAssignment: more rows (${rows}) than columns (${cols}); every row needs its own column`);
  if (cost.length !== rows * cols) throw new Error(`linearSumAssignment: ${cost.length} costs for a ${rows} x ${cols} matrix`);
  for (let i = 0; i < cost.length; i++) {
    if (!Number.isFinite(cost[i]!)) throw new Error(`linearSumAssignment: cost[${Math.floor(i / cols)}][${i % cols}] is ${cost[i]}`);
  }
  // 1-based rows and columns; column 0 is the virtual start of each augmenting path
  const u = new Float64Array(rows + 1); // row potentials
  const v = new Float64Array(cols + 1); // column potentials
  const rowOf = new Int32Array(cols + 1); // row matched to a column (0: free)
  const via = new Int32Array(cols + 1); // previous column on the shortest path
  const slack = new Float64Array(cols + 1);
  const done = new Uint8Array(cols + 1);
  for (let r = 1; r <= rows; r++) {
    rowOf[0] = r;
    let j0 = 0;
    slack.fill(Infinity);
    done.fill(0);
    do {
      done[j0] = 1;
      const i0 = rowOf[j0]!;
      const base = (i0 - 1) * cols - 1;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (done[j]) continue;
        const reduced = cost[base + j]! - u[i0]! - v[j]!;
        if (reduced < slack[j]!) {
          slack[j] = reduced;
          via[j] = j0;
        }
        if (slack[j]! < delta) {
          delta = slack[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (done[j]) {
          const i = rowOf[j]!;
          u[i] = u[i]! + delta;
          v[j] = v[j]! - delta;
        } else {
          slack[j] = slack[j]! - delta;
        }
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    // flip the path back to its start
    do {
      const j1 = via[j0]!;
      rowOf[j0] = rowOf[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const columns = new Int32Array(rows);
  for (let j = 1; j <= cols; j++) if (rowOf[j]! > 0) columns[rowOf[j]! - 1] = j - 1;
  return columns;
}
