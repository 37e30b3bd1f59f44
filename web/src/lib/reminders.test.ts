import { describe, expect, it } from 'vitest';
import { deliveryLabel, deliveryTarget, deliveryTone, offsetLabel, parseOffsets, parseReminderFrame, reminderLabel, reminderMessage } from './reminders';

describe('reminder.fired frames', () => {
  const frame = {
    type: 'reminder.fired',
    task_id: 't1',
    user_id: 'u1',
    reminder_id: 'r1',
    title: 'Pay rent',
    fire_at: '2027-01-12T13:50:00Z',
    due_date: '2027-01-12T14:00:00Z',
    late: false,
  };
  it('reads the data members the sync service forwards', () => {
    expect(parseReminderFrame(frame)).toEqual({ reminderId: 'r1', taskId: 't1', title: 'Pay rent', fireAt: '2027-01-12T13:50:00Z', dueDate: '2027-01-12T14:00:00Z', late: false });
  });
  it('refuses other frames and frames without a task', () => {
    expect(parseReminderFrame({ ...frame, type: 'task.updated' })).toBeNull();
    expect(parseReminderFrame({ type: 'reminder.fired', title: 'x' })).toBeNull();
  });
  it('falls back to a title and a reminder id', () => {
    const r = parseReminderFrame({ type: 'reminder.fired', task_id: 't', title: '  ', fire_at: 'f' });
    expect(r?.title).toBe('A task');
    expect(r?.reminderId).toBe('t@f');
  });
  it('says the due time in the given zone and when it was late', () => {
    const r = parseReminderFrame({ ...frame, late: true })!;
    expect(reminderMessage(r, 'en-GB', 'Europe/Berlin')).toBe('Reminder: Pay rent — due 15:00 (sent late)');
    expect(reminderMessage({ ...r, dueDate: null, late: false })).toBe('Reminder: Pay rent');
  });
});

describe('delivery log labels', () => {
  it('names statuses plainly', () => {
    expect(deliveryLabel('delivered')).toBe('delivered');
    expect(deliveryLabel('pending', 0)).toBe('queued');
    expect(deliveryLabel('pending', 2)).toBe('waiting to retry');
    expect(deliveryLabel('not-configured')).toBe('not configured');
    expect(deliveryTone('failed')).toBe('bad');
    expect(deliveryTone('not-configured')).toBe('off');
    expect(reminderLabel('sent', true)).toBe('sent late');
    expect(reminderLabel('missed', false)).toMatch(/^missed/);
  });
  it('names offsets and targets', () => {
    expect(offsetLabel(0)).toBe('at the due time');
    expect(offsetLabel(90)).toBe('1 h 30 min before');
    expect(offsetLabel(2880)).toBe('2 days before');
    expect(deliveryTarget('email', { kind: 'email', address: 'a@b.c' })).toBe('E-mail to a@b.c');
    expect(deliveryTarget('push', { kind: 'webpush' })).toBe('Push (a browser)');
    expect(deliveryTarget('in-app', { kind: 'in-app' })).toBe('In the app');
  });
});

describe('default reminder offsets', () => {
  it('parses, dedupes and sorts minutes', () => {
    expect(parseOffsets('60, 10 10,0')).toEqual({ ok: true, value: [0, 10, 60] });
    expect(parseOffsets('')).toEqual({ ok: true, value: [] });
  });
  it('refuses what the server would refuse', () => {
    expect(parseOffsets('ten').ok).toBe(false);
    expect(parseOffsets('40321').ok).toBe(false);
    expect(parseOffsets('1,2,3,4,5,6,7,8,9,10,11').ok).toBe(false);
  });
});
