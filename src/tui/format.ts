/**
 * Text for the dashboard's cells: numbers, sizes, rates, a sparkline, cells cut or padded to a
 * width, and the colours of postures, verdicts and severities. Pure: components only lay it out.
 */
import type { Posture } from '../findings/index.js';
import type { Severity } from '../model/finding.js';

/** From this many columns on, tables show full titles, times to the millisecond and wider cells. */
export const WIDE_COLUMNS = 110;

/** A run of text in one style; a line of the dashboard is a list of them. */
export interface Segment {
  text: string;
  color?: string;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}

export type Line = Segment[];

const count = new Intl.NumberFormat('en-US');

export function countText(n: number): string {
  return count.format(Math.round(n));
}

/** 1,234 B, 12.3 kB, 4.5 MB, 6.7 GB (powers of 1000, as tcpdump and tshark count). */
export function bytesText(n: number): string {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

const BARS = '▁▂▃▄▅▆▇█';

/** The last `width` values as bars scaled to their maximum; an empty string for none. */
export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(-width);
  const max = Math.max(0, ...shown);
  return shown.map((value) => (max === 0 ? BARS[0] : BARS[Math.min(BARS.length - 1, Math.floor((value / max) * (BARS.length - 1) + 0.5))])).join('');
}

/** `text` cut to `width` (with … when cut) and padded to it; `right` pads on the left. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  const cut = text.length > width ? (width === 1 ? '…' : text.slice(0, width - 1) + '…') : text;
  return align === 'right' ? cut.padStart(width) : cut.padEnd(width);
}

/** A line cut to `width` characters, styles kept; shorter lines are left as they are. */
export function fitLine(line: Line, width: number): Line {
  const out: Line = [];
  let left = width;
  for (const segment of line) {
    if (left <= 0) break;
    if (segment.text.length <= left) {
      out.push(segment);
      left -= segment.text.length;
    } else {
      out.push({ ...segment, text: fit(segment.text, left) });
      left = 0;
    }
  }
  return out;
}

/** Words wrapped to lines of at most `width` characters (a longer word is cut). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line} ${word}` : word.length > width ? fit(word, width) : word;
  }
  if (line) lines.push(line);
  return lines;
}

export const POSTURE_COLORS: Record<Posture, string> = {
  mutual: 'green', 'server-only': 'cyan', unverified: 'red', unjudged: 'yellow', plaintext: 'magenta', other: 'gray',
};

export const SEVERITY_COLORS: Record<Severity, string> = {
  critical: 'magentaBright', high: 'red', medium: 'yellow', low: 'blue', info: 'gray',
};

/** Short forms for narrow terminals. */
export const SEVERITY_SHORT: Record<Severity, string> = { critical: 'crit', high: 'high', medium: 'med', low: 'low', info: 'info' };

/** A server certificate's verdict: green when trusted, red when it cannot be, yellow when unknown. */
export function verdictColor(verdict: string | null): string | undefined {
  if (verdict === null) return undefined;
  if (verdict === 'trusted') return 'green';
  if (verdict === 'unknown') return 'yellow';
  return 'red';
}
