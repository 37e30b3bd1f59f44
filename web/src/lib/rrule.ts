// The custom recurrence builder's model and its RFC 5545 RRULE, both ways. The server stays the
// authority (POST /api/recurrence/preview canonicalizes and expands); this only has to be exact
// for the rules the builder can express, and to say when a rule is beyond it.
export type Frequency = 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
export type Weekday = 'MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU';
export const WEEKDAYS: Weekday[] = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

export interface Rule {
  freq: Frequency;
  interval: number;
  byDay: Weekday[]; // WEEKLY: the weekdays
  monthly: { kind: 'day'; day: number } | { kind: 'nth'; nth: number; weekday: Weekday } | null;
  end: { kind: 'never' } | { kind: 'count'; count: number } | { kind: 'until'; until: string };
}

export const defaultRule = (): Rule => ({
  freq: 'WEEKLY',
  interval: 1,
  byDay: [],
  monthly: null,
  end: { kind: 'never' },
});

export function toRRule(rule: Rule): string {
  const parts = [`FREQ=${rule.freq}`];
  if (rule.interval > 1) parts.push(`INTERVAL=${rule.interval}`);
  if (rule.freq === 'WEEKLY' && rule.byDay.length > 0) {
    const sorted = WEEKDAYS.filter((d) => rule.byDay.includes(d));
    parts.push(`BYDAY=${sorted.join(',')}`);
  }
  if (rule.freq === 'MONTHLY' && rule.monthly) {
    if (rule.monthly.kind === 'day') parts.push(`BYMONTHDAY=${rule.monthly.day}`);
    else parts.push(`BYDAY=${rule.monthly.nth}${rule.monthly.weekday}`);
  }
  if (rule.end.kind === 'count') parts.push(`COUNT=${rule.end.count}`);
  if (rule.end.kind === 'until') parts.push(`UNTIL=${rule.end.until.replaceAll('-', '')}`);
  return parts.join(';');
}

// The rule an RRULE describes, or null when the builder cannot show it (edit it as text then).
export function fromRRule(text: string): Rule | null {
  const body = text.replace(/^RRULE:/i, '').trim();
  if (!body) return null;
  const rule = defaultRule();
  let freq: string | null = null;
  for (const part of body.split(';')) {
    const [rawKey, value = ''] = part.split('=');
    const key = rawKey?.toUpperCase();
    if (key === 'FREQ') {
      freq = value.toUpperCase();
    } else if (key === 'INTERVAL') {
      if (!/^\d+$/.test(value) || Number(value) < 1) return null;
      rule.interval = Number(value);
    } else if (key === 'BYDAY') {
      const days = value.toUpperCase().split(',');
      const nth = /^([+-]?\d)(MO|TU|WE|TH|FR|SA|SU)$/.exec(days[0] ?? '');
      if (days.length === 1 && nth) {
        rule.monthly = { kind: 'nth', nth: Number(nth[1]), weekday: nth[2] as Weekday };
      } else if (days.every((d) => (WEEKDAYS as string[]).includes(d))) {
        rule.byDay = days as Weekday[];
      } else {
        return null;
      }
    } else if (key === 'BYMONTHDAY') {
      if (!/^-?\d{1,2}$/.test(value)) return null;
      rule.monthly = { kind: 'day', day: Number(value) };
    } else if (key === 'COUNT') {
      if (!/^\d+$/.test(value)) return null;
      rule.end = { kind: 'count', count: Number(value) };
    } else if (key === 'UNTIL') {
      const m = /^(\d{4})(\d{2})(\d{2})/.exec(value);
      if (!m) return null;
      rule.end = { kind: 'until', until: `${m[1]}-${m[2]}-${m[3]}` };
    } else if (key === 'WKST') {
      continue;
    } else {
      return null;
    }
  }
  if (freq !== 'DAILY' && freq !== 'WEEKLY' && freq !== 'MONTHLY' && freq !== 'YEARLY') return null;
  rule.freq = freq;
  if (rule.monthly && freq !== 'MONTHLY') return null;
  if (rule.byDay.length > 0 && freq !== 'WEEKLY') return null;
  return rule;
}

const NTH = new Map([[1, 'first'], [2, 'second'], [3, 'third'], [4, 'fourth'], [-1, 'last']]);
const DAY_NAMES: Record<Weekday, string> = {
  MO: 'Monday', TU: 'Tuesday', WE: 'Wednesday', TH: 'Thursday', FR: 'Friday', SA: 'Saturday', SU: 'Sunday',
};

// "Every 2 weeks on Monday, Friday, 5 times" — what the builder shows above the preview.
export function describeRule(rule: Rule): string {
  const unit = { DAILY: 'day', WEEKLY: 'week', MONTHLY: 'month', YEARLY: 'year' }[rule.freq];
  let text = rule.interval === 1 ? `Every ${unit}` : `Every ${rule.interval} ${unit}s`;
  if (rule.freq === 'WEEKLY' && rule.byDay.length) {
    text += ` on ${WEEKDAYS.filter((d) => rule.byDay.includes(d)).map((d) => DAY_NAMES[d]).join(', ')}`;
  }
  if (rule.freq === 'MONTHLY' && rule.monthly) {
    text +=
      rule.monthly.kind === 'day'
        ? ` on day ${rule.monthly.day}`
        : ` on the ${NTH.get(rule.monthly.nth) ?? rule.monthly.nth} ${DAY_NAMES[rule.monthly.weekday]}`;
  }
  if (rule.end.kind === 'count') text += `, ${rule.end.count} times`;
  if (rule.end.kind === 'until') text += `, until ${rule.end.until}`;
  return text;
}
