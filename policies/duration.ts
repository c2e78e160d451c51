/** Durations in policies are written like `90s`, `30m`, `1h`, `1h30m` or `2d`. */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const DURATION = /^(?:\d+[smhdw])+$/;
const PART = /(\d+)([smhdw])/g;

export type DurationResult = { ok: true; seconds: number } | { ok: false; message: string };

/** Units as people spell them out; "m" is minutes here, so months get no suggestion. */
const SPELLED_UNITS: Record<string, string> = {
  sec: 's', secs: 's', second: 's', seconds: 's',
  min: 'm', mins: 'm', minute: 'm', minutes: 'm',
  hr: 'h', hrs: 'h', hour: 'h', hours: 'h',
  day: 'd', days: 'd',
  wk: 'w', wks: 'w', week: 'w', weeks: 'w',
};

/** `1hr`, `30 mins`, `1H 30M`: the duration meant, written as a policy takes it, if that is clear. */
function meant(text: string): string | undefined {
  const parts = [...text.toLowerCase().matchAll(/(\d+)\s*([a-z]+)/g)];
  const rest = text.toLowerCase().replace(/(\d+)\s*([a-z]+)/g, '').replace(/[\s,]|and/g, '');
  if (parts.length === 0 || rest !== '') return undefined;
  const written = parts.map(([, amount, unit]) => {
    const short = unit in UNIT_SECONDS ? unit : SPELLED_UNITS[unit];
    return short ? `${amount}${short}` : undefined;
  });
  return written.every((w) => w !== undefined) ? written.join('') : undefined;
}

export function parseDuration(text: string): DurationResult {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) {
    const guess = meant(trimmed);
    return {
      ok: false,
      message: `invalid duration "${text}": ${guess ? `did you mean "${guess}"? ` : ''}expected a number with a unit s, m, h, d or w (for example 30m, 1h or 1h30m)`,
    };
  }
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) seconds += Number(amount) * UNIT_SECONDS[unit];
  if (seconds <= 0) return { ok: false, message: `invalid duration "${text}": must be longer than zero` };
  return { ok: true, seconds };
}

export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.floor(seconds);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
