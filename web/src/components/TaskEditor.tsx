import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, type AuditPage, type OccurrencePreview, type Task, type TaskInput } from '../api/client';
import { DeliveryLog } from './DeliveryLog';
import { toWallTime, wallTimeInput } from '../lib/dates';
import { defaultRule, describeRule, fromRRule, toRRule, WEEKDAYS, type Rule, type Weekday } from '../lib/rrule';

const PRESETS = ['none', 'daily', 'weekly', 'monthly', 'yearly'];

export function TaskEditor({ id, zone, onClose }: { id: string; zone: string; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const task = useQuery({ queryKey: ['tasks', 'one', id], queryFn: () => api<Task>('GET', `/api/tasks/${id}`) });
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={dialog} className="editor" aria-labelledby="editor-title" onClose={onClose} onCancel={onClose}>
      {task.isPending && <p>Loading…</p>}
      {task.isError && (
        <p className="form-error" role="alert">
          {(task.error as Error).message}
        </p>
      )}
      {task.data && <EditorForm key={task.data.version} task={task.data} zone={zone} onClose={onClose} />}
    </dialog>
  );
}

function EditorForm({ task, zone, onClose }: { task: Task; zone: string; onClose: () => void }) {
  const qc = useQueryClient();
  const taskZone = task.timezone || zone;
  const wall = task.due_date ? toWallTime(task.due_date, taskZone) : null;
  const [title, setTitle] = useState(task.title);
  const [description, setDescription] = useState(task.description ?? '');
  const [priority, setPriority] = useState(task.priority);
  const [tags, setTags] = useState(task.tags.join(', '));
  const [date, setDate] = useState(wall?.date ?? '');
  const [time, setTime] = useState(task.all_day ? '' : (wall?.time ?? ''));
  const [timezone, setTimezone] = useState(taskZone);
  const [reminders, setReminders] = useState(task.reminders.join(', '));
  const initialRule = task.recurrence && !PRESETS.includes(task.recurrence) ? fromRRule(task.recurrence) : null;
  const [preset, setPreset] = useState(task.recurrence ? (PRESETS.includes(task.recurrence) ? task.recurrence : 'custom') : 'none');
  const [rule, setRule] = useState<Rule>(initialRule ?? defaultRule());
  const [rawRule, setRawRule] = useState(task.recurrence && !initialRule && !PRESETS.includes(task.recurrence) ? task.recurrence : '');
  const [mode, setMode] = useState(task.recurrence_mode);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [tab, setTab] = useState<'edit' | 'history' | 'reminders'>('edit');

  const recurrence = preset === 'none' ? null : preset === 'custom' ? rawRule || toRRule(rule) : preset;
  const dueInput = date ? wallTimeInput(date, time || null) : null;

  const preview = useQuery({
    queryKey: ['preview', recurrence, dueInput, timezone, mode],
    enabled: recurrence !== null,
    retry: false,
    queryFn: () =>
      api<OccurrencePreview>('POST', '/api/recurrence/preview', {
        recurrence: recurrence!,
        due_date: dueInput,
        all_day: !!date && !time,
        timezone,
        mode,
        count: 5,
      }),
  });

  const save = useMutation({
    mutationFn: (input: TaskInput) => api<Task>('PATCH', `/api/tasks/${task.id}`, input, { 'if-match': `"${task.version}"` }),
    onSuccess: (t) => {
      qc.setQueryData(['tasks', 'one', t.id], t);
      void qc.invalidateQueries({ queryKey: ['tasks', 'list'] });
      onClose();
    },
    onError: (err) => {
      if (err instanceof ApiError) {
        setErrors(err.fieldErrors());
        setMessage(err.problem.type === 'version-conflict' ? 'Someone changed this task meanwhile; it has been reloaded.' : err.message);
        if (err.problem.type === 'version-conflict') void qc.invalidateQueries({ queryKey: ['tasks', 'one', task.id] });
      } else setMessage('Could not save.');
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const minutes = reminders.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    if (minutes.some((m) => !Number.isInteger(m) || m < 0)) {
      setErrors({ reminders: 'Reminders are minutes before the due time, e.g. 10, 60.' });
      return;
    }
    save.mutate({
      title,
      description: description.trim() ? description : null,
      priority,
      tags: tags.split(',').map((t) => t.trim().replace(/^#/, '')).filter(Boolean),
      due_date: dueInput,
      all_day: !!date && !time,
      timezone,
      recurrence,
      recurrence_mode: mode,
      reminders: minutes,
    });
  };

  const err = (field: string) =>
    errors[field] && (
      <p className="field-error" id={`e-${field}-error`}>
        {errors[field]}
      </p>
    );

  return (
    <>
      <div className="editor-head">
        <h2 id="editor-title">Edit task</h2>
        <div role="tablist" aria-label="Task views">
          <button type="button" role="tab" aria-selected={tab === 'edit'} onClick={() => setTab('edit')}>Details</button>
          <button type="button" role="tab" aria-selected={tab === 'history'} onClick={() => setTab('history')}>History</button>
          <button type="button" role="tab" aria-selected={tab === 'reminders'} onClick={() => setTab('reminders')}>Reminders</button>
        </div>
        <button type="button" className="ghost icon" onClick={onClose} aria-label="Close">✕</button>
      </div>
      {tab === 'history' ? (
        <History id={task.id} />
      ) : tab === 'reminders' ? (
        <DeliveryLog id={task.id} />
      ) : (
        <form onSubmit={submit} className="editor-form">
          <div className="field">
            <label htmlFor="e-title">Title</label>
            <input id="e-title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} aria-invalid={!!errors.title} />
            {err('title')}
          </div>
          <div className="field">
            <label htmlFor="e-description">Description</label>
            <textarea id="e-description" value={description} onChange={(e) => setDescription(e.target.value)} rows={3} maxLength={2000} />
            {err('description')}
          </div>
          <div className="row">
            <div className="field">
              <label htmlFor="e-priority">Priority</label>
              <select id="e-priority" value={priority} onChange={(e) => setPriority(e.target.value as Task['priority'])}>
                <option value="high">High</option>
                <option value="medium">Medium</option>
                <option value="low">Low</option>
              </select>
            </div>
            <div className="field grow">
              <label htmlFor="e-tags">Tags (comma-separated)</label>
              <input id="e-tags" value={tags} onChange={(e) => setTags(e.target.value)} />
              {err('tags')}
            </div>
          </div>
          <div className="row">
            <div className="field">
              <label htmlFor="e-date">Due date</label>
              <input id="e-date" type="date" value={date} onChange={(e) => setDate(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="e-time">Time (empty: all day)</label>
              <input id="e-time" type="time" value={time} onChange={(e) => setTime(e.target.value)} disabled={!date} />
            </div>
            <div className="field grow">
              <label htmlFor="e-zone">Time zone</label>
              <input id="e-zone" value={timezone} onChange={(e) => setTimezone(e.target.value)} list="zones" />
              <datalist id="zones">
                {(Intl.supportedValuesOf?.('timeZone') ?? []).map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </div>
          </div>
          {err('due_date')}
          {err('timezone')}
          <div className="field">
            <label htmlFor="e-reminders">Reminders (minutes before, comma-separated)</label>
            <input id="e-reminders" value={reminders} onChange={(e) => setReminders(e.target.value)} inputMode="numeric" />
            {err('reminders')}
          </div>
          <fieldset className="recurrence">
            <legend>Repeat</legend>
            <div className="row">
              <div className="field">
                <label htmlFor="e-repeat">Repeats</label>
                <select id="e-repeat" value={preset} onChange={(e) => setPreset(e.target.value)}>
                  <option value="none">Never</option>
                  <option value="daily">Daily</option>
                  <option value="weekly">Weekly</option>
                  <option value="monthly">Monthly</option>
                  <option value="yearly">Yearly</option>
                  <option value="custom">Custom…</option>
                </select>
              </div>
              {preset !== 'none' && (
                <div className="field">
                  <label htmlFor="e-mode">Next date counts from</label>
                  <select id="e-mode" value={mode} onChange={(e) => setMode(e.target.value as Task['recurrence_mode'])}>
                    <option value="due">the due date</option>
                    <option value="strict">the schedule (skip missed)</option>
                    <option value="completion">completion</option>
                  </select>
                </div>
              )}
            </div>
            {preset === 'custom' && (rawRule ? (
              <div className="field">
                <label htmlFor="e-rrule">Rule (RRULE)</label>
                <input id="e-rrule" value={rawRule} onChange={(e) => setRawRule(e.target.value)} />
              </div>
            ) : (
              <RuleBuilder rule={rule} onChange={setRule} />
            ))}
            {err('recurrence')}
            {recurrence && (
              <div className="preview-dates" aria-live="polite" data-testid="rule-preview">
                {preview.isError ? (
                  <p className="field-error">{(preview.error as Error).message}</p>
                ) : preview.data ? (
                  <>
                    <p className="hint">Next dates after the due date: {preview.data.rrule && <code>{preview.data.rrule}</code>}</p>
                    <ol>
                      {preview.data.occurrences.map((o) => (
                        <li key={o.utc}>{o.local.replace('T', ' ')}</li>
                      ))}
                    </ol>
                  </>
                ) : (
                  <p className="hint">Working out the next dates…</p>
                )}
              </div>
            )}
          </fieldset>
          {message && (
            <p className="form-error" role="alert">
              {message}
            </p>
          )}
          <div className="actions">
            <button type="button" className="ghost" onClick={onClose}>Cancel</button>
            <button type="submit" className="primary" disabled={save.isPending}>Save</button>
          </div>
        </form>
      )}
    </>
  );
}

function RuleBuilder({ rule, onChange }: { rule: Rule; onChange: (r: Rule) => void }) {
  const set = (patch: Partial<Rule>) => onChange({ ...rule, ...patch });
  return (
    <div className="rule-builder">
      <div className="row">
        <div className="field">
          <label htmlFor="r-interval">Every</label>
          <input id="r-interval" type="number" min={1} max={999} value={rule.interval} onChange={(e) => set({ interval: Math.max(1, Number(e.target.value) || 1) })} />
        </div>
        <div className="field">
          <label htmlFor="r-freq">Unit</label>
          <select id="r-freq" value={rule.freq} onChange={(e) => set({ freq: e.target.value as Rule['freq'], byDay: [], monthly: null })}>
            <option value="DAILY">day(s)</option>
            <option value="WEEKLY">week(s)</option>
            <option value="MONTHLY">month(s)</option>
            <option value="YEARLY">year(s)</option>
          </select>
        </div>
      </div>
      {rule.freq === 'WEEKLY' && (
        <fieldset className="weekdays">
          <legend>On</legend>
          {WEEKDAYS.map((d) => (
            <label key={d} className="check">
              <input type="checkbox" checked={rule.byDay.includes(d)} onChange={(e) => set({ byDay: e.target.checked ? [...rule.byDay, d] : rule.byDay.filter((x) => x !== d) })} />
              {d.charAt(0) + d.charAt(1).toLowerCase()}
            </label>
          ))}
        </fieldset>
      )}
      {rule.freq === 'MONTHLY' && (
        <div className="row">
          <div className="field">
            <label htmlFor="r-monthly">On</label>
            <select id="r-monthly" value={rule.monthly?.kind ?? 'due'} onChange={(e) => {
              const v = e.target.value;
              set({ monthly: v === 'day' ? { kind: 'day', day: 1 } : v === 'nth' ? { kind: 'nth', nth: 2, weekday: 'TU' } : null });
            }}>
              <option value="due">the due date's day</option>
              <option value="day">a day of the month</option>
              <option value="nth">a weekday (e.g. 2nd Tuesday)</option>
            </select>
          </div>
          {rule.monthly?.kind === 'day' && (
            <div className="field">
              <label htmlFor="r-day">Day</label>
              <input id="r-day" type="number" min={-1} max={31} value={rule.monthly.day} onChange={(e) => set({ monthly: { kind: 'day', day: Number(e.target.value) || 1 } })} />
            </div>
          )}
          {rule.monthly?.kind === 'nth' && (
            <>
              <div className="field">
                <label htmlFor="r-nth">Which</label>
                <select id="r-nth" value={rule.monthly.nth} onChange={(e) => set({ monthly: { kind: 'nth', nth: Number(e.target.value), weekday: (rule.monthly as { weekday: Weekday }).weekday } })}>
                  <option value={1}>1st</option>
                  <option value={2}>2nd</option>
                  <option value={3}>3rd</option>
                  <option value={4}>4th</option>
                  <option value={-1}>last</option>
                </select>
              </div>
              <div className="field">
                <label htmlFor="r-weekday">Weekday</label>
                <select id="r-weekday" value={rule.monthly.weekday} onChange={(e) => set({ monthly: { kind: 'nth', nth: (rule.monthly as { nth: number }).nth, weekday: e.target.value as Weekday } })}>
                  {WEEKDAYS.map((d) => (
                    <option key={d} value={d}>{d}</option>
                  ))}
                </select>
              </div>
            </>
          )}
        </div>
      )}
      <div className="row">
        <div className="field">
          <label htmlFor="r-end">Ends</label>
          <select id="r-end" value={rule.end.kind} onChange={(e) => {
            const v = e.target.value;
            set({ end: v === 'count' ? { kind: 'count', count: 10 } : v === 'until' ? { kind: 'until', until: new Date(Date.now() + 90 * 86400000).toISOString().slice(0, 10) } : { kind: 'never' } });
          }}>
            <option value="never">never</option>
            <option value="count">after a number of times</option>
            <option value="until">on a date</option>
          </select>
        </div>
        {rule.end.kind === 'count' && (
          <div className="field">
            <label htmlFor="r-count">Times</label>
            <input id="r-count" type="number" min={1} max={1000} value={rule.end.count} onChange={(e) => set({ end: { kind: 'count', count: Math.max(1, Number(e.target.value) || 1) } })} />
          </div>
        )}
        {rule.end.kind === 'until' && (
          <div className="field">
            <label htmlFor="r-until">Until</label>
            <input id="r-until" type="date" value={rule.end.until} onChange={(e) => set({ end: { kind: 'until', until: e.target.value } })} />
          </div>
        )}
      </div>
      <p className="hint">{describeRule(rule)} · <code>{toRRule(rule)}</code></p>
    </div>
  );
}

function show(v: unknown): string {
  if (v === undefined || v === null || v === '') return '—';
  if (Array.isArray(v)) return v.length ? v.join(', ') : '—';
  // Instants are shown in the reader's locale and zone, not as raw UTC.
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/.test(v)) return new Date(v).toLocaleString();
  return String(v);
}

function History({ id }: { id: string }) {
  const history = useQuery({ queryKey: ['tasks', 'history', id], queryFn: () => api<AuditPage>('GET', `/api/tasks/${id}/history?limit=200`) });
  if (history.isPending) return <p>Loading…</p>;
  if (history.isError) return <p className="form-error">{(history.error as Error).message}</p>;
  const verb: Record<string, string> = { 'task.created': 'created the task', 'task.updated': 'changed', 'task.completed': 'completed the task', 'task.deleted': 'deleted the task' };
  return (
    <ol className="history" aria-label="History">
      {history.data.items.length === 0 && <li>No history yet (it appears a moment after a change).</li>}
      {history.data.items.map((e) => (
        <li key={e.id}>
          <time dateTime={e.event_time}>{new Date(e.event_time).toLocaleString()}</time>{' '}
          <strong>{e.actor.startsWith('user:') ? 'You' : e.actor.replace('system:', 'System ')}</strong> {verb[e.event_type] ?? e.event_type}
          {e.changes && Object.keys(e.changes).length > 0 && (
            <ul>
              {Object.entries(e.changes).map(([field, c]) => (
                <li key={field}>
                  <code>{field}</code>: {show(c.old)} → {show(c.new)}
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
    </ol>
  );
}
