import { describe, expect, it } from 'vitest';
import { defaultRule, describeRule, fromRRule, toRRule, type Rule } from './rrule';

describe('rule builder ↔ RRULE', () => {
  const cases: [Rule, string][] = [
    [{ ...defaultRule(), freq: 'DAILY' }, 'FREQ=DAILY'],
    [{ ...defaultRule(), interval: 2, byDay: ['FR', 'MO'] }, 'FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR'],
    [{ ...defaultRule(), freq: 'MONTHLY', monthly: { kind: 'nth', nth: 2, weekday: 'TU' } }, 'FREQ=MONTHLY;BYDAY=2TU'],
    [{ ...defaultRule(), freq: 'MONTHLY', monthly: { kind: 'day', day: -1 }, end: { kind: 'count', count: 5 } }, 'FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=5'],
    [{ ...defaultRule(), freq: 'YEARLY', end: { kind: 'until', until: '2030-06-01' } }, 'FREQ=YEARLY;UNTIL=20300601'],
  ];
  it.each(cases)('%j ⇄ %s', (rule, text) => {
    expect(toRRule(rule)).toBe(text);
    const back = fromRRule(text)!;
    expect(toRRule(back)).toBe(text);
  });
  it('reads RRULE: prefixes, lower case and UNTIL with a time', () => {
    expect(toRRule(fromRRule('RRULE:freq=weekly;byday=mo;until=20270101T000000Z')!)).toBe('FREQ=WEEKLY;BYDAY=MO;UNTIL=20270101');
  });
  it('returns null for rules the builder cannot show', () => {
    expect(fromRRule('FREQ=HOURLY')).toBeNull();
    expect(fromRRule('FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU')).toBeNull();
    expect(fromRRule('FREQ=DAILY;BYMONTHDAY=3')).toBeNull();
    expect(fromRRule('')).toBeNull();
  });
  it('describes the rule in words', () => {
    expect(describeRule(fromRRule('FREQ=MONTHLY;BYDAY=-1FR;COUNT=3')!)).toBe('Every month on the last Friday, 3 times');
    expect(describeRule(fromRRule('FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE')!)).toBe('Every 2 weeks on Monday, Wednesday');
  });
});
