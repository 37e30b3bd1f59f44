import { describe, expect, it } from 'vitest';
import { parseQuickAdd, parseTime } from './quickadd';

// Saturday 5 Dec 2026, 22:30 in Berlin = 21:30 UTC.
const now = new Date('2026-12-05T21:30:00Z');

describe('parseQuickAdd', () => {
  it('takes tags, priority and "tomorrow 9am" out of the title', () => {
    const r = parseQuickAdd('Call mum tomorrow 9am #family !high', 'Europe/Berlin', now);
    expect(r.title).toBe('Call mum');
    expect(r.tags).toEqual(['family']);
    expect(r.priority).toBe('high');
    expect(r.due).toEqual({ date: '2026-12-06', time: '09:00' });
  });
  it('counts days in the user zone, not UTC: 23:30 in Tokyo is already the next day', () => {
    expect(parseQuickAdd('x today', 'Asia/Tokyo', now).due).toEqual({ date: '2026-12-06', time: null });
    expect(parseQuickAdd('x today', 'America/New_York', now).due).toEqual({ date: '2026-12-05', time: null });
  });
  it('understands weekdays, "next week", "in 3 days", dates and month names', () => {
    expect(parseQuickAdd('a monday', 'UTC', now).due?.date).toBe('2026-12-07');
    expect(parseQuickAdd('a next saturday', 'UTC', now).due?.date).toBe('2026-12-12');
    expect(parseQuickAdd('a next week', 'UTC', now).due?.date).toBe('2026-12-12');
    expect(parseQuickAdd('a in 3 days', 'UTC', now).due?.date).toBe('2026-12-08');
    expect(parseQuickAdd('a 2027-01-31 at 17:45', 'UTC', now).due).toEqual({ date: '2027-01-31', time: '17:45' });
    expect(parseQuickAdd('a dec 24', 'UTC', now).due?.date).toBe('2026-12-24');
    expect(parseQuickAdd('a 3 jan', 'UTC', now).due?.date).toBe('2027-01-03');
  });
  it('a time alone is the next time it comes', () => {
    expect(parseQuickAdd('a 11pm', 'UTC', now).due).toEqual({ date: '2026-12-05', time: '23:00' });
    expect(parseQuickAdd('a 9am', 'UTC', now).due).toEqual({ date: '2026-12-06', time: '09:00' });
  });
  it('keeps words it does not understand, and dedupes tags', () => {
    const r = parseQuickAdd('Read 2 books #Read #read !low', 'UTC', now);
    expect(r.title).toBe('Read 2 books');
    expect(r.tags).toEqual(['read']);
    expect(r.priority).toBe('low');
    expect(r.due).toBeNull();
  });
});

describe('parseTime', () => {
  it.each([
    ['9am', '09:00'], ['12am', '00:00'], ['12pm', '12:00'], ['9:30pm', '21:30'], ['21:05', '21:05'],
    ['13pm', null], ['24:00', null], ['9', null], ['9:75', null],
  ])('%s → %s', (input, want) => expect(parseTime(input)).toBe(want));
});
