import { describe, expect, it } from 'vitest';
import { describeDue, fromWallTime, isOverdue, toWallTime, wallTimeInput } from './dates';

describe('time zones', () => {
  it('shows an instant as wall time in the task zone, across DST', () => {
    expect(toWallTime('2026-03-29T07:00:00Z', 'Europe/Berlin')).toEqual({ date: '2026-03-29', time: '09:00' });
    expect(toWallTime('2026-03-28T08:00:00Z', 'Europe/Berlin')).toEqual({ date: '2026-03-28', time: '09:00' });
    expect(toWallTime('2026-12-06T03:00:00Z', 'America/Los_Angeles')).toEqual({ date: '2026-12-05', time: '19:00' });
    expect(toWallTime('2026-12-05T23:30:00Z', 'Pacific/Kiritimati')).toEqual({ date: '2026-12-06', time: '13:30' });
  });
  it('turns wall time back into the instant', () => {
    expect(fromWallTime('2026-03-29', '09:00', 'Europe/Berlin').toISOString()).toBe('2026-03-29T07:00:00.000Z');
    expect(fromWallTime('2026-11-01', '01:30', 'America/New_York').toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });
  it('sends wall time or a date', () => {
    expect(wallTimeInput('2026-12-24', '18:00')).toBe('2026-12-24T18:00');
    expect(wallTimeInput('2026-12-24', null)).toBe('2026-12-24');
  });
  it('names the day relative to now in the zone', () => {
    const now = new Date('2026-12-05T21:30:00Z');
    expect(describeDue('2026-12-06T08:00:00Z', false, 'Europe/Berlin', now)).toBe('Tomorrow, 09:00');
    expect(describeDue('2026-12-06T08:00:00Z', false, 'Asia/Tokyo', now)).toBe('Today, 17:00');
    expect(describeDue('2027-02-01T00:00:00Z', true, 'UTC', now)).toBe('1 Feb 2027');
    expect(isOverdue('2026-12-05T21:00:00Z', 'pending', now)).toBe(true);
    expect(isOverdue('2026-12-05T21:00:00Z', 'completed', now)).toBe(false);
  });
});
