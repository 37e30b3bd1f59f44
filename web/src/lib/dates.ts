// Dates across time zones: a task's due instant is shown and edited as wall time in the task's
// own IANA zone (not the browser's), and sent back as wall time + zone for the server to resolve.
import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

// "2026-03-29T07:00:00Z" in "Europe/Berlin" → { date: "2026-03-29", time: "09:00" }.
export function toWallTime(instant: string, timeZone: string): { date: string; time: string } {
  const zoned = new TZDate(new Date(instant).getTime(), timeZone);
  return { date: format(zoned, 'yyyy-MM-dd'), time: format(zoned, 'HH:mm') };
}

// The wall time the API takes as input: "YYYY-MM-DDTHH:MM" (zone sent beside it) or a date.
export function wallTimeInput(date: string, time: string | null): string {
  return time ? `${date}T${time}` : date;
}

// The instant of a wall time in a zone (for previews before the server answers).
export function fromWallTime(date: string, time: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  return new Date(new TZDate(y, m - 1, d, hh, mm, 0, timeZone).getTime());
}

// "today", "tomorrow" or "Tue 8 Dec" relative to now in the zone, plus the time unless all-day.
export function describeDue(
  instant: string,
  allDay: boolean,
  timeZone: string,
  now: Date = new Date(),
): string {
  const due = new TZDate(new Date(instant).getTime(), timeZone);
  const today = new TZDate(now.getTime(), timeZone);
  const dayIndex = (d: TZDate) => Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 86400000;
  const diff = dayIndex(due) - dayIndex(today);
  let day: string;
  if (diff === 0) day = 'Today';
  else if (diff === 1) day = 'Tomorrow';
  else if (diff === -1) day = 'Yesterday';
  else if (due.getFullYear() === today.getFullYear()) day = format(due, 'EEE d MMM');
  else day = format(due, 'd MMM yyyy');
  return allDay ? day : `${day}, ${format(due, 'HH:mm')}`;
}

export function isOverdue(instant: string | null, status: string, now: Date = new Date()): boolean {
  return status === 'pending' && instant !== null && new Date(instant).getTime() < now.getTime();
}
