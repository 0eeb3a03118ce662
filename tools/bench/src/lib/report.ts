import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Cell = string | number | boolean | null | undefined;

/** Human form of a cell: numbers grouped and rounded so columns read at a glance. */
export function formatCell(value: Cell): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '–';
    if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
    const abs = Math.abs(value);
    const digits = abs >= 100 || Number.isInteger(value) ? 0 : abs >= 10 ? 1 : 2;
    return value.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits });
  }
  return value;
}

/** A Markdown table (pipes padded so it also reads well in a terminal). */
export function formatTable(columns: string[], rows: Cell[][]): string {
  const cells = rows.map((row) => columns.map((_, i) => formatCell(row[i]).replace(/\|/g, '\\|')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(columns), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

export interface ScenarioReport {
  scenario: string;
  /** The command line that produced it, to quote next to the figures. */
  command: string;
  date: string;
  commit: string;
  smoke: boolean;
  /** Everything the scenario measured (per repetition and the medians). */
  result: unknown;
  table: { columns: string[]; rows: Cell[][] };
}

/** `<dir>/<scenario>.json`; returns the path. */
export function writeReport(dir: string, report: ScenarioReport): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${report.scenario}.json`);
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
  return path;
}
