// Reminders that fired while the app is open: a toast each (role="alert", so a screen reader
// says it at once), and the browser's own notification when the user allowed it. The system
// notification carries the same tag as the service worker's push notification of the same
// reminder, so a browser that also has push shows it once.
import { Link } from 'react-router';
import type { FiredReminder } from '../lib/reminders';
import { reminderMessage } from '../lib/reminders';

export function reminderTag(r: FiredReminder): string {
  return `reminder:${r.taskId}:${r.fireAt ?? ''}`;
}

export function showSystemNotification(r: FiredReminder, onOpen: () => void) {
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(`Reminder: ${r.title}`, { body: reminderMessage(r).replace(/^Reminder: /, ''), tag: reminderTag(r), icon: '/favicon.svg' });
    n.onclick = () => {
      window.focus();
      onOpen();
      n.close();
    };
  } catch {
    // Some browsers (Android Chrome) allow notifications only from a service worker; the toast
    // is shown in any case.
  }
}

export function ReminderToasts({ items, onDismiss }: { items: FiredReminder[]; onDismiss: (id: string) => void }) {
  if (items.length === 0) return null;
  return (
    <div className="reminder-toasts">
      {items.map((r) => (
        <div key={r.reminderId} className="toast toast-reminder" role="alert" data-testid="reminder-toast">
          <svg className="bell" aria-hidden="true" viewBox="0 0 24 24" width="18" height="18">
            <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" />
          </svg>
          <span className="text">{reminderMessage(r)}</span>
          <span className="toast-actions">
            <Link to={`/tasks/${r.taskId}`} onClick={() => onDismiss(r.reminderId)}>
              Open
            </Link>
            <button type="button" className="link" onClick={() => onDismiss(r.reminderId)} aria-label={`Dismiss reminder “${r.title}”`}>
              Dismiss
            </button>
          </span>
        </div>
      ))}
    </div>
  );
}
