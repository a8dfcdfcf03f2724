/** A one-line text progress bar for downloads, e.g. "[########------------]  40.0%  65.0/162.6 MB". */

const MB = 1024 * 1024;

export function formatProgress(received: number, total?: number, width = 30): string {
  const mb = (b: number): string => (b / MB).toFixed(1);
  if (!total || total <= 0 || !Number.isFinite(total)) return `${mb(received)} MB`;
  const frac = Math.min(1, Math.max(0, received / total));
  const filled = Math.round(frac * width);
  const pct = (frac * 100).toFixed(1).padStart(5);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}%  ${mb(received)}/${mb(total)} MB`;
}
