// Reminder frames from /ws/tasks and the delivery log of GET /api/tasks/{id}/reminders, turned
// into what the app shows: a toast per fired reminder, a readable line per delivery.

export interface FiredReminder {
  reminderId: string;
  taskId: string;
  title: string;
  fireAt: string | null;
  dueDate: string | null;
  late: boolean;
}

// `{"type":"reminder.fired","task_id",…,"title",…}` (the event's data members, docs/api/websocket.md).
// Anything without a task id is not a reminder we can show.
export function parseReminderFrame(frame: Record<string, unknown>): FiredReminder | null {
  if (frame.type !== 'reminder.fired') return null;
  const text = (k: string) => (typeof frame[k] === 'string' ? (frame[k] as string) : null);
  const taskId = text('task_id');
  if (!taskId) return null;
  return {
    reminderId: text('reminder_id') ?? `${taskId}@${text('fire_at') ?? ''}`,
    taskId,
    title: text('title')?.trim() || 'A task',
    fireAt: text('fire_at'),
    dueDate: text('due_date'),
    late: frame.late === true,
  };
}

// The toast's text: "Reminder: Pay rent — due 14:00" (in the reader's zone), "(late)" when the
// server sent it after its time (it was down when it was due).
export function reminderMessage(r: FiredReminder, locale?: string, timeZone?: string): string {
  let text = `Reminder: ${r.title}`;
  if (r.dueDate) {
    const due = new Date(r.dueDate);
    if (!Number.isNaN(due.getTime())) {
      text += ` — due ${due.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit', timeZone })}`;
    }
  }
  if (r.late) text += ' (sent late)';
  return text;
}

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed' | 'not-configured' | 'target-gone';
export type ReminderStatus = 'scheduled' | 'sent' | 'cancelled' | 'missed' | 'failed';

const DELIVERY_LABELS: Record<DeliveryStatus, string> = {
  pending: 'waiting to retry',
  sending: 'sending',
  delivered: 'delivered',
  failed: 'failed',
  'not-configured': 'not configured',
  'target-gone': 'target gone',
};

export function deliveryLabel(status: string | undefined, attempts = 0): string {
  if (status === 'pending' && attempts === 0) return 'queued';
  return DELIVERY_LABELS[status as DeliveryStatus] ?? status ?? 'unknown';
}

// Good / bad / in between, for the colour of the badge.
export function deliveryTone(status: string | undefined): 'ok' | 'bad' | 'wait' | 'off' {
  if (status === 'delivered') return 'ok';
  if (status === 'failed' || status === 'target-gone') return 'bad';
  if (status === 'not-configured') return 'off';
  return 'wait';
}

export function reminderLabel(status: string | undefined, late: boolean): string {
  switch (status) {
    case 'scheduled':
      return 'scheduled';
    case 'sent':
      return late ? 'sent late' : 'sent';
    case 'cancelled':
      return 'cancelled';
    case 'missed':
      return 'missed (the server was down past the grace period)';
    case 'failed':
      return 'failed';
    default:
      return status ?? 'unknown';
  }
}

// "1 h 30 min before", "at the due time", "2 days before".
export function offsetLabel(minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined) return 'reminder';
  if (minutes === 0) return 'at the due time';
  const parts: string[] = [];
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days) parts.push(`${days} day${days > 1 ? 's' : ''}`);
  if (hours) parts.push(`${hours} h`);
  if (mins) parts.push(`${mins} min`);
  return `${parts.join(' ')} before`;
}

const CHANNELS: Record<string, string> = { email: 'E-mail', push: 'Push', webhook: 'Webhook', 'in-app': 'In the app' };

// Which channel and where: "E-mail to a@b.c", "Webhook https://…", "Push (browser)", "In the app".
export function deliveryTarget(channel: string | undefined, target: { kind?: string; address?: string } | undefined): string {
  const name = CHANNELS[channel ?? ''] ?? channel ?? 'unknown';
  if (channel === 'in-app') return name;
  if (target?.address) return channel === 'email' ? `${name} to ${target.address}` : `${name} ${target.address}`;
  if (target?.kind === 'webpush') return `${name} (a browser)`;
  if (target?.kind === 'fcm') return `${name} (a phone)`;
  return name;
}

// Comma-separated minutes → numbers; null (with the reason) when one is not 0…40320.
export function parseOffsets(text: string): { ok: true; value: number[] } | { ok: false; reason: string } {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const value: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p) || Number(p) > 40320) return { ok: false, reason: `“${p}” is not a number of minutes from 0 to 40320` };
    value.push(Number(p));
  }
  if (value.length > 10) return { ok: false, reason: 'at most 10 reminders' };
  return { ok: true, value: [...new Set(value)].sort((a, b) => a - b) };
}
