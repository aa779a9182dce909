// Human output: aligned tables, relative times, colour only for a person at a terminal.
import { styleText } from 'node:util';

type Style = 'green' | 'yellow' | 'red' | 'gray' | 'bold' | 'cyan';

export const useColour = (stream: NodeJS.WriteStream = process.stdout) =>
  Boolean(stream.isTTY) && !process.env.NO_COLOR;

export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return useColour(stream) ? styleText(style, text) : text;
}

const statusStyles: Record<string, Style> = {
  active: 'green',
  pending: 'yellow',
  denied: 'red',
  revoked: 'red',
  failed: 'red',
  timed_out: 'red',
  cancelled: 'gray',
  expired: 'gray',
};

export const status = (s: string) => paint(statusStyles[s] ?? 'bold', s);

export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Progress and prompts go to stderr, so stdout stays the command's answer. */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

// ANSI codes take no columns; pad on what is visible.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the escape character is the point
const visibleLength = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '').length;

export function table(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell)),
      )
      .join('  ')
      .trimEnd();
  out(paint('bold', line(headers)));
  for (const row of rows) out(line(row));
}

/** "in 58m", "3m ago", "just now". */
export function relativeTime(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.round((at - now) / 1000);
  if (Math.abs(seconds) < 10) return 'just now';
  const span = formatDuration(Math.abs(seconds));
  return seconds > 0 ? `in ${span}` : `${span} ago`;
}

/** Seconds as the largest two units: "45s", "58m", "1h30m", "2d3h". */
export function formatDuration(seconds: number): string {
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    } else if (parts.length > 0) {
      break;
    }
  }
  return parts.join('') || '0s';
}

/**
 * Seconds written out by the API ("at most 28800s", "no decision within 3600s") as the CLI writes
 * every other duration ("8h"); under a minute they stay as they are.
 */
export function humanizeSeconds(text: string): string {
  return text.replace(/\b(\d+)s\b/g, (whole, digits: string) => {
    const seconds = Number(digits);
    return seconds >= 60 ? formatDuration(seconds) : whole;
  });
}
