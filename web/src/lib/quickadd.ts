// Quick add: "Call mum tomorrow 9am #family !high" → title, tags, priority and a due wall time,
// all relative to "now" in the user's time zone, so the preview shows what will be saved.
import { TZDate } from '@date-fns/tz';
import { addDays, format } from 'date-fns';

export type Priority = 'high' | 'medium' | 'low';

export interface QuickAdd {
  title: string;
  tags: string[];
  priority: Priority | null;
  due: { date: string; time: string | null } | null; // wall time in the user's zone
  recognized: string[]; // the words that were understood, for the preview
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function weekdayIndex(word: string): number {
  const w = word.toLowerCase();
  if (w.length < 3) return -1;
  return WEEKDAYS.findIndex((d) => d.startsWith(w) && (w.length >= 3));
}

function monthIndex(word: string): number {
  const w = word.toLowerCase();
  if (w.length < 3) return -1;
  return MONTHS.findIndex((m) => w.startsWith(m) && 'january february march april may june july august september october november december'.split(' ').some((full) => full.startsWith(w)));
}

// "9am", "9:30pm", "21:00", "12pm" → "HH:MM"; null when not a time.
export function parseTime(word: string): string | null {
  const m = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$/i.exec(word);
  if (!m) return null;
  let h = Number(m[1]);
  const min = m[2] ? Number(m[2]) : 0;
  const ampm = m[3]?.toLowerCase();
  if (!ampm && !m[2]) return null; // a bare number is not a time
  if (min > 59) return null;
  if (ampm) {
    if (h < 1 || h > 12) return null;
    if (ampm === 'am') h = h === 12 ? 0 : h;
    else h = h === 12 ? 12 : h + 12;
  } else if (h > 23) {
    return null;
  }
  return `${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}`;
}

export function parseQuickAdd(input: string, timeZone: string, now: Date = new Date()): QuickAdd {
  const today = new TZDate(now.getTime(), timeZone);
  const words = input.trim().split(/\s+/).filter(Boolean);
  const keep: string[] = [];
  const tags: string[] = [];
  const recognized: string[] = [];
  let priority: Priority | null = null;
  let date: TZDate | null = null;
  let time: string | null = null;
  const ymd = (d: TZDate) => format(d, 'yyyy-MM-dd');
  // addDays keeps the TZDate class (and so the zone) of its argument.
  const add = (days: number) => addDays(today, days) as TZDate;

  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const lower = word.toLowerCase();
    const next = words[i + 1]?.toLowerCase();
    const tag = /^#([\p{L}\p{N}_-]{1,50})$/u.exec(word);
    if (tag) {
      const name = tag[1]!.toLowerCase();
      if (!tags.includes(name)) tags.push(name);
      recognized.push(word);
      continue;
    }
    const prio = /^!(high|medium|low|h|m|l|1|2|3)$/i.exec(word);
    if (prio) {
      const p = prio[1]!.toLowerCase();
      priority = p.startsWith('h') || p === '1' ? 'high' : p.startsWith('l') || p === '3' ? 'low' : 'medium';
      recognized.push(word);
      continue;
    }
    if (!date && (lower === 'today' || lower === 'tonight')) {
      date = today;
      if (lower === 'tonight' && !time) time = '20:00';
      recognized.push(word);
      continue;
    }
    if (!date && (lower === 'tomorrow' || lower === 'tmr')) {
      date = add(1);
      recognized.push(word);
      continue;
    }
    if (!date && lower === 'next' && next === 'week') {
      date = add(7);
      recognized.push(`${word} ${words[i + 1]}`);
      i++;
      continue;
    }
    if (!date && (lower === 'next' || lower === 'on') && next && weekdayIndex(next) >= 0) {
      const target = weekdayIndex(next);
      let diff = (target - today.getDay() + 7) % 7;
      if (diff === 0 || lower === 'next') diff = diff === 0 ? 7 : diff;
      date = add(diff);
      recognized.push(`${word} ${words[i + 1]}`);
      i++;
      continue;
    }
    if (!date && weekdayIndex(lower) >= 0 && WEEKDAYS[weekdayIndex(lower)]!.startsWith(lower)) {
      const diff = (weekdayIndex(lower) - today.getDay() + 7) % 7 || 7;
      date = add(diff);
      recognized.push(word);
      continue;
    }
    if (!date && lower === 'in' && next && /^\d+$/.test(next)) {
      const unit = words[i + 2]?.toLowerCase() ?? '';
      const n = Number(next);
      const days = /^days?$/.test(unit) ? n : /^weeks?$/.test(unit) ? n * 7 : -1;
      if (days >= 0) {
        date = add(days);
        recognized.push(`${word} ${words[i + 1]} ${words[i + 2]}`);
        i += 2;
        continue;
      }
    }
    if (!date && /^\d{4}-\d{2}-\d{2}$/.test(word)) {
      const [y, m, d] = word.split('-').map(Number) as [number, number, number];
      date = new TZDate(y, m - 1, d, timeZone);
      recognized.push(word);
      continue;
    }
    // "dec 24" / "24 dec"
    if (!date && monthIndex(lower) >= 0 && next && /^\d{1,2}$/.test(next)) {
      date = nextDate(today, monthIndex(lower), Number(next), timeZone);
      recognized.push(`${word} ${words[i + 1]}`);
      i++;
      continue;
    }
    if (!date && /^\d{1,2}$/.test(lower) && next && monthIndex(next) >= 0) {
      date = nextDate(today, monthIndex(next), Number(lower), timeZone);
      recognized.push(`${word} ${words[i + 1]}`);
      i++;
      continue;
    }
    if (!time) {
      const at = lower === 'at' && next ? parseTime(next) : null;
      if (at) {
        time = at;
        recognized.push(`${word} ${words[i + 1]}`);
        i++;
        continue;
      }
      const t = parseTime(lower);
      if (t) {
        time = t;
        recognized.push(word);
        continue;
      }
    }
    keep.push(word);
  }
  if (time && !date) {
    // A time alone means the next time it comes: today if still ahead, else tomorrow.
    const [h, m] = time.split(':').map(Number) as [number, number];
    const ahead = today.getHours() * 60 + today.getMinutes() < h * 60 + m;
    date = ahead ? today : add(1);
  }
  return {
    title: keep.join(' '),
    tags,
    priority,
    due: date ? { date: ymd(date), time } : null,
    recognized,
  };
}

function nextDate(today: TZDate, month: number, day: number, timeZone: string): TZDate {
  let candidate = new TZDate(today.getFullYear(), month, day, timeZone);
  if (format(candidate, 'yyyy-MM-dd') < format(today, 'yyyy-MM-dd')) {
    candidate = new TZDate(today.getFullYear() + 1, month, day, timeZone);
  }
  return candidate;
}
