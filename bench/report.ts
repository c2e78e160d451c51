/** What every measurement in `npm run bench` returns, and how run.ts prints it. */
export interface BenchReport {
  title: string;
  columns: string[];
  rows: string[][];
  /** Caveats a reader needs to read the figures right (sampling, skipped inputs). */
  notes: string[];
}

export function formatReport(report: BenchReport): string {
  const widths = report.columns.map((column, i) => Math.max(column.length, ...report.rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [
    report.title,
    '='.repeat(report.title.length),
    line(report.columns),
    line(widths.map((w) => '-'.repeat(w))),
    ...report.rows.map(line),
    ...report.notes.map((note) => `* ${note}`),
    '',
  ].join('\n');
}

/** The nearest-rank percentile `p` (0 to 100) of values sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
