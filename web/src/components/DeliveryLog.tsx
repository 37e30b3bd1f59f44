// A task's delivery log (GET /api/tasks/{id}/reminders): each reminder instant, and for each one
// where it went (in the app, e-mail, push, webhook), what happened and why not when it failed.
// Refetched when a reminder of this task fires in the page, and every few seconds while a
// delivery is still pending.
import { useQuery } from '@tanstack/react-query';
import { api, type TaskReminders } from '../api/client';
import { deliveryLabel, deliveryTarget, deliveryTone, offsetLabel, reminderLabel } from '../lib/reminders';

const when = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '—';

export function DeliveryLog({ id }: { id: string }) {
  const log = useQuery({
    queryKey: ['tasks', 'reminders', id],
    queryFn: () => api<TaskReminders>('GET', `/api/tasks/${id}/reminders`),
    refetchInterval: (q) => {
      const items = q.state.data?.items ?? [];
      const busy = items.some((r) => r.deliveries?.some((d) => d.status === 'pending' || d.status === 'sending'));
      return busy ? 3000 : false;
    },
  });
  if (log.isPending) return <p>Loading…</p>;
  if (log.isError) return <p className="form-error" role="alert">{(log.error as Error).message}</p>;
  const items = log.data.items ?? [];
  return (
    <section aria-label="Delivery log" className="delivery-log">
      {items.length === 0 ? (
        <p className="empty">No reminders for this task yet. Give it a due time and reminders in Details; each one is listed here with where it was sent.</p>
      ) : (
        <ol className="reminders" aria-label="Reminders">
          {items.map((r) => (
            <li key={r.id} data-testid="reminder-entry">
              <p className="reminder-head">
                <strong>{offsetLabel(r.offset_minutes)}</strong> · <time dateTime={r.fire_at}>{when(r.fire_at)}</time> ·{' '}
                <span className={`badge badge-${r.status === 'sent' ? 'ok' : r.status === 'scheduled' ? 'wait' : r.status === 'cancelled' ? 'off' : 'bad'}`}>
                  {reminderLabel(r.status, r.late ?? false)}
                </span>
                {r.fired_at && r.fired_at !== r.fire_at && (
                  <span className="hint"> (fired {when(r.fired_at)})</span>
                )}
              </p>
              {r.deliveries && r.deliveries.length > 0 && (
                <table className="deliveries">
                  <caption className="visually-hidden">Deliveries of the reminder at {when(r.fire_at)}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Where</th>
                      <th scope="col">Status</th>
                      <th scope="col">Time</th>
                      <th scope="col">Details</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.deliveries.map((d) => (
                      <tr key={d.id} data-testid="delivery">
                        <td>{deliveryTarget(d.channel, d.target)}</td>
                        <td>
                          <span className={`badge badge-${deliveryTone(d.status)}`}>{deliveryLabel(d.status, d.attempts)}</span>
                        </td>
                        <td className="when">
                          <time dateTime={d.updated_at}>{when(d.updated_at)}</time>
                        </td>
                        <td className="details">
                          {d.last_error && <span className={d.status === 'not-configured' ? 'hint' : 'error-reason'}>{d.last_error}</span>}
                          {(d.attempts ?? 0) > 1 && <span className="hint"> {d.attempts} attempts</span>}
                          {d.next_attempt_at && d.status === 'pending' && <span className="hint"> next try {when(d.next_attempt_at)}</span>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
