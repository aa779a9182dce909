// Durations as people type them (CLI flags, API bodies, the catalog), always resolved to whole seconds.

/** A duration that cannot be used; `code` is stable so the API can map it to a 4xx. */
export class DurationError extends Error {
  override readonly name = 'DurationError';
  readonly code = 'invalid_duration';
  constructor(
    readonly input: unknown,
    problem: string,
  ) {
    super(`invalid duration ${JSON.stringify(input)}: ${problem}`);
  }
}

const SHORT = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/i;
const ISO = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i;
const EXPECTED = 'expected e.g. "90m", "1h30m", "45s", "PT1H30M" or a whole number of seconds';

/** Seconds in `input`: "90m", "1h30m", "45s", "2d", ISO 8601 "PT1H30M", or whole seconds (number or string). */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') return positive(input, input);
  const text = input.trim();
  if (/^[+-]?\d+$/.test(text)) return positive(input, Number(text));
  if (text.startsWith('-')) throw new DurationError(input, 'must be positive');
  const parts = SHORT.exec(text) ?? ISO.exec(text);
  // Both patterns also match "" and "PT"; a duration needs at least one number.
  if (!parts || parts.slice(1).every((part) => part === undefined)) throw new DurationError(input, EXPECTED);
  const [days, hours, minutes, seconds] = parts.slice(1).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
  ];
  return positive(input, ((days * 24 + hours) * 60 + minutes) * 60 + seconds);
}

function positive(input: unknown, seconds: number): number {
  if (!Number.isSafeInteger(seconds)) throw new DurationError(input, 'must be a whole number of seconds');
  if (seconds <= 0) throw new DurationError(input, 'must be positive');
  return seconds;
}

/** "1h30m", "45s", "2h": the short form parseDuration reads back; hours are not folded into days. */
export function formatDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new DurationError(seconds, 'must be a whole, non-negative number of seconds');
  }
  if (seconds === 0) return '0s';
  const units: [number, string][] = [
    [Math.floor(seconds / 3600), 'h'],
    [Math.floor((seconds % 3600) / 60), 'm'],
    [seconds % 60, 's'],
  ];
  return units
    .filter(([amount]) => amount > 0)
    .map(([amount, unit]) => `${amount}${unit}`)
    .join('');
}
