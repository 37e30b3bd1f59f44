import { lazy, Suspense, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { useInfiniteQuery, useMutation, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { api, ApiError, currentSession, recreateInput, type Task, type TaskInput, type TaskPage, type User } from '../api/client';
import { parseQuickAdd } from '../lib/quickadd';
import { browserTimeZone, describeDue, fromWallTime, isOverdue, wallTimeInput } from '../lib/dates';
import { useQuery } from '@tanstack/react-query';

// The editor (rule builder, history, delivery log) loads when a task is first opened: the list
// needs none of it to show.
const TaskEditor = lazy(() => import('./TaskEditor').then((m) => ({ default: m.TaskEditor })));

const FILTER_KEYS = ['status', 'priority', 'tag', 'q', 'sort', 'order', 'overdue', 'due_after', 'due_before'] as const;

type Pages = InfiniteData<TaskPage, string | null>;

export function TasksPage() {
  const [params, setParams] = useSearchParams();
  const { id: openId } = useParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [undo, setUndo] = useState<Task | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [cursor, setCursor] = useState(0);
  // On a phone the filters fold behind a toggle (CSS decides when the toggle shows).
  const [filtersOpen, setFiltersOpen] = useState(false);
  const quickRef = useRef<HTMLInputElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLUListElement>(null);

  const me = useQuery({ queryKey: ['me'], queryFn: () => api<User>('GET', '/api/me') });
  const zone = me.data?.timezone ?? browserTimeZone();

  const query = useMemo(() => {
    const q = new URLSearchParams();
    for (const k of FILTER_KEYS) for (const v of params.getAll(k)) if (v) q.append(k, v);
    if (!q.has('status')) q.set('status', 'pending');
    // The URL keeps plain dates; the range is whole days in the user's zone.
    const after = q.get('due_after');
    const before = q.get('due_before');
    if (after) q.set('due_after', fromWallTime(after, '00:00', zone).toISOString().replace('.000Z', 'Z'));
    if (before) q.set('due_before', new Date(fromWallTime(before, '23:59', zone).getTime() + 59_000).toISOString().replace('.000Z', 'Z'));
    return q.toString();
  }, [params, zone]);

  const list = useInfiniteQuery({
    queryKey: ['tasks', 'list', query],
    queryFn: ({ pageParam }) =>
      api<TaskPage>('GET', `/api/tasks?${query}&limit=50${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''}`),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
  const tasks = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);

  // Infinite scroll: the sentinel below the list loads the next page when it comes into view.
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = sentinel.current;
    if (!el) return;
    const io = new IntersectionObserver((entries) => {
      if (entries[0]?.isIntersecting && list.hasNextPage && !list.isFetchingNextPage) void list.fetchNextPage();
    });
    io.observe(el);
    return () => io.disconnect();
  }, [list]);

  const patchCached = (id: string, change: (t: Task) => Task | null) => {
    qc.setQueriesData<Pages>({ queryKey: ['tasks', 'list'] }, (data) =>
      data && {
        ...data,
        pages: data.pages.map((p) => ({
          ...p,
          items: p.items.flatMap((t) => {
            if (t.id !== id) return [t];
            const next = change(t);
            return next ? [next] : [];
          }),
        })),
      },
    );
  };

  const toggle = useMutation({
    mutationFn: (t: Task) => api<Task>('POST', `/api/tasks/${t.id}/${t.status === 'completed' ? 'reopen' : 'complete'}`),
    onMutate: async (t) => {
      await qc.cancelQueries({ queryKey: ['tasks', 'list'] });
      const before = qc.getQueriesData<Pages>({ queryKey: ['tasks', 'list'] });
      patchCached(t.id, (x) => ({ ...x, status: x.status === 'completed' ? 'pending' : 'completed' }));
      return { before };
    },
    onError: (err, _t, ctx) => {
      ctx?.before.forEach(([key, data]) => qc.setQueryData(key, data));
      setNotice(err instanceof ApiError ? err.message : 'Could not save the change.');
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: ['tasks'] }),
  });

  const remove = useMutation({
    mutationFn: (t: Task) => api<void>('DELETE', `/api/tasks/${t.id}`),
    onMutate: (t) => {
      patchCached(t.id, () => null);
      setUndo(t);
    },
    onError: (err) => {
      setUndo(null);
      setNotice(err instanceof ApiError ? err.message : 'Could not delete the task.');
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: ['tasks'] }),
  });

  const restore = useMutation({
    mutationFn: (t: Task) => api<Task>('POST', '/api/tasks', recreateInput(t)),
    onSuccess: () => {
      setUndo(null);
      setNotice('Task restored.');
    },
    onError: (err) => setNotice(err instanceof ApiError ? err.message : 'Could not restore the task.'),
    onSettled: () => void qc.invalidateQueries({ queryKey: ['tasks'] }),
  });

  useEffect(() => {
    if (!undo) return;
    const t = setTimeout(() => setUndo(null), 10_000);
    return () => clearTimeout(t);
  }, [undo]);

  // Keyboard: n add, / search, j/k move, x complete, e or Enter edit, Delete delete, z undo.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (target.closest('input, textarea, select, dialog')) return;
      const current = tasks[cursor];
      if (e.key === 'n') quickRef.current?.focus();
      else if (e.key === '/') searchRef.current?.focus();
      else if (e.key === 'j' || e.key === 'ArrowDown') setCursor((c) => Math.min(c + 1, tasks.length - 1));
      else if (e.key === 'k' || e.key === 'ArrowUp') setCursor((c) => Math.max(c - 1, 0));
      else if (e.key === 'x' && current) toggle.mutate(current);
      else if ((e.key === 'e' || e.key === 'Enter') && current) navigate(`/tasks/${current.id}?${params}`);
      else if (e.key === 'Delete' && current) remove.mutate(current);
      else if (e.key === 'z' && undo) restore.mutate(undo);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [tasks, cursor, undo, params, navigate, toggle, remove, restore]);

  useEffect(() => {
    const row = listRef.current?.querySelectorAll<HTMLElement>('li.task')[cursor];
    if (row && document.activeElement?.closest('li.task')) row.focus();
  }, [cursor]);

  const activeFilters = ['status', 'priority', 'tag', 'overdue', 'due_after', 'due_before'].filter((k) => params.get(k)).length;
  const filtered = activeFilters > 0 || !!params.get('q');
  const clearFilters = () => {
    const next = new URLSearchParams();
    for (const k of ['sort', 'order']) for (const v of params.getAll(k)) next.append(k, v);
    setParams(next);
    if (searchRef.current) searchRef.current.value = '';
  };

  const setFilter = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: key === 'q' });
  };

  return (
    <main id="main" className="tasks">
      <h1 className="visually-hidden">Tasks</h1>
      <QuickAdd inputRef={quickRef} zone={zone} onError={setNotice} />
      <div className="list-tools">
        <div className="field inline search">
          <label htmlFor="search">Search</label>
          <input id="search" ref={searchRef} type="search" defaultValue={params.get('q') ?? ''} onChange={(e) => setFilter('q', e.target.value)} placeholder="Search ( / )" />
        </div>
        <button
          type="button"
          className="filters-toggle"
          aria-expanded={filtersOpen}
          aria-controls="filters"
          onClick={() => setFiltersOpen((o) => !o)}
        >
          Filters{activeFilters > 0 ? ` (${activeFilters})` : ''} <span aria-hidden="true">{filtersOpen ? '▴' : '▾'}</span>
        </button>
      </div>
      <section aria-label="Filters" id="filters" className={`filters${filtersOpen ? ' open' : ''}`}>
        <div className="field inline">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={params.get('status') ?? 'pending'} onChange={(e) => setFilter('status', e.target.value === 'pending' ? null : e.target.value)}>
            <option value="pending">Open</option>
            <option value="completed">Done</option>
            <option value="all">All</option>
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="f-priority">Priority</label>
          <select id="f-priority" value={params.get('priority') ?? ''} onChange={(e) => setFilter('priority', e.target.value || null)}>
            <option value="">Any</option>
            <option value="high">High</option>
            <option value="medium">Medium</option>
            <option value="low">Low</option>
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="f-tag">Tag</label>
          <input id="f-tag" key={params.get('tag') ?? ''} defaultValue={params.get('tag') ?? ''} onBlur={(e) => setFilter('tag', e.target.value.replace(/^#/, '').trim().toLowerCase() || null)} placeholder="any" size={8} />
        </div>
        <div className="field inline">
          <label htmlFor="f-sort">Sort</label>
          <select id="f-sort" value={`${params.get('sort') ?? 'created_at'}:${params.get('order') ?? 'desc'}`} onChange={(e) => {
            const [s, o] = e.target.value.split(':');
            const next = new URLSearchParams(params);
            next.set('sort', s!);
            next.set('order', o!);
            setParams(next);
          }}>
            <option value="created_at:desc">Newest</option>
            <option value="due_date:asc">Due date</option>
            <option value="priority:desc">Priority</option>
            <option value="title:asc">Title</option>
            <option value="updated_at:desc">Recently changed</option>
          </select>
        </div>
        <div className="field inline">
          <label htmlFor="f-after">Due from</label>
          <input id="f-after" type="date" value={params.get('due_after') ?? ''} onChange={(e) => setFilter('due_after', e.target.value || null)} />
        </div>
        <div className="field inline">
          <label htmlFor="f-before">Due until</label>
          <input id="f-before" type="date" value={params.get('due_before') ?? ''} onChange={(e) => setFilter('due_before', e.target.value || null)} />
        </div>
        <label className="check">
          <input type="checkbox" checked={params.get('overdue') === 'true'} onChange={(e) => setFilter('overdue', e.target.checked ? 'true' : null)} /> Overdue
        </label>
      </section>
      {list.isError && <p className="form-error" role="alert">{(list.error as Error).message}</p>}
      {list.isPending ? (
        <p>Loading…</p>
      ) : tasks.length === 0 ? (
        <EmptyState filtered={filtered} onClear={clearFilters} onAdd={() => quickRef.current?.focus()} />
      ) : (
        <ul className="task-list" ref={listRef} aria-label="Tasks">
          {tasks.map((t, i) => (
            <li
              key={t.id}
              className={`task${i === cursor ? ' cursor' : ''}${t.status === 'completed' ? ' done' : ''}`}
              tabIndex={i === cursor ? 0 : -1}
              onFocus={() => setCursor(i)}
              data-testid="task"
            >
              <input type="checkbox" checked={t.status === 'completed'} onChange={() => toggle.mutate(t)} aria-label={`${t.status === 'completed' ? 'Reopen' : 'Complete'} "${t.title}"`} />
              <button type="button" className="title" onClick={() => navigate(`/tasks/${t.id}?${params}`)}>
                {t.title}
              </button>
              <span className="meta">
                {t.priority !== 'medium' && <span className={`prio prio-${t.priority}`}>{t.priority}</span>}
                {t.tags.map((tag) => (
                  <button type="button" key={tag} className="tag" onClick={() => setFilter('tag', tag)} aria-label={`Show tag ${tag}`}>
                    #{tag}
                  </button>
                ))}
                {t.recurrence && <span className="repeat" title={t.recurrence}>↻</span>}
                {t.due_date && (
                  <span className={`due${isOverdue(t.due_date, t.status) ? ' overdue' : ''}`}>{describeDue(t.due_date, t.all_day, t.timezone)}</span>
                )}
              </span>
              <button type="button" className="ghost icon" onClick={() => remove.mutate(t)} aria-label={`Delete "${t.title}"`}>
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      <div ref={sentinel} aria-hidden="true" />
      {list.hasNextPage && (
        <button type="button" className="ghost more" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
      <div className="toasts" role="status" aria-live="polite">
        {undo && (
          <div className="toast">
            Deleted “{undo.title}”.{' '}
            <button type="button" className="link" onClick={() => restore.mutate(undo)}>
              Undo
            </button>
          </div>
        )}
        {notice && (
          <div className="toast">
            {notice}{' '}
            <button type="button" className="link" onClick={() => setNotice(null)}>
              Dismiss
            </button>
          </div>
        )}
      </div>
      <details className="shortcuts">
        <summary>Keyboard shortcuts</summary>
        <p><kbd>n</kbd> new task · <kbd>/</kbd> search · <kbd>j</kbd>/<kbd>k</kbd> move · <kbd>x</kbd> complete · <kbd>e</kbd> edit · <kbd>Delete</kbd> delete · <kbd>z</kbd> undo · <kbd>Esc</kbd> close</p>
      </details>
      {openId && (
        <Suspense fallback={<p className="hint">Opening the task…</p>}>
          <TaskEditor id={openId} zone={zone} onClose={() => navigate(`/tasks?${params}`)} />
        </Suspense>
      )}
    </main>
  );
}

function EmptyState({ filtered, onClear, onAdd }: { filtered: boolean; onClear: () => void; onAdd: () => void }) {
  return (
    <div className="empty-state" data-testid="empty-state">
      <span className="empty-mark" aria-hidden="true">{filtered ? '∅' : '✓'}</span>
      {filtered ? (
        <>
          <h2>No tasks match this view</h2>
          <p>Try another search or filter.</p>
          <button type="button" onClick={onClear}>
            Clear search and filters
          </button>
        </>
      ) : (
        <>
          <h2>Nothing to do</h2>
          <p>
            Add a task above — “Call mum tomorrow 9am #family !high” sets the due time, tag and priority in one go.
            <span className="kbd-hint"> Press <kbd>n</kbd> from anywhere on this page.</span>
          </p>
          <button type="button" className="primary" onClick={onAdd}>
            Add a task
          </button>
        </>
      )}
    </div>
  );
}

function QuickAdd({ inputRef, zone, onError }: { inputRef: React.RefObject<HTMLInputElement | null>; zone: string; onError: (m: string) => void }) {
  const qc = useQueryClient();
  const [text, setText] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const parsed = useMemo(() => parseQuickAdd(text, zone), [text, zone]);
  const create = useMutation({
    mutationFn: (input: TaskInput) => api<Task>('POST', '/api/tasks', input, { 'idempotency-key': crypto.randomUUID() }),
    onSuccess: () => setErrors({}),
    onError: (err) => {
      if (err instanceof ApiError) {
        setErrors(err.fieldErrors());
        onError(err.message);
      } else onError('Could not add the task.');
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: ['tasks'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!parsed.title) return;
    const input: TaskInput = { title: parsed.title, tags: parsed.tags };
    if (parsed.priority) input.priority = parsed.priority;
    if (parsed.due) {
      input.due_date = wallTimeInput(parsed.due.date, parsed.due.time);
      input.all_day = parsed.due.time === null;
      input.timezone = zone;
    }
    // Cleared at once, so a fast typist's next task is not wiped by this one's answer; put back
    // on failure if nothing new was typed meanwhile.
    const submitted = text;
    setText('');
    create.mutate(input, { onError: () => setText((now) => (now === '' ? submitted : now)) });
  };
  const understood = [
    parsed.due && `due ${parsed.due.date}${parsed.due.time ? ` ${parsed.due.time}` : ' (all day)'}`,
    parsed.priority && `${parsed.priority} priority`,
    parsed.tags.length > 0 && parsed.tags.map((t) => `#${t}`).join(' '),
  ].filter(Boolean);
  return (
    <form className="quick-add" onSubmit={submit} aria-label="Add a task">
      <label htmlFor="quick-add" className="visually-hidden">New task</label>
      <input
        id="quick-add"
        ref={inputRef}
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder="Add a task: Call mum tomorrow 9am #family !high   ( n )"
        autoComplete="off"
        aria-describedby="quick-add-preview"
        onKeyDown={(e) => e.key === 'Escape' && (e.currentTarget.blur(), setText(''))}
      />
      <button type="submit" className="primary" disabled={!parsed.title || create.isPending}>
        Add
      </button>
      <p id="quick-add-preview" className="preview" aria-live="polite">
        {text.trim() && (parsed.title ? `“${parsed.title}”` : 'A title is needed')}
        {understood.length > 0 && ` · ${understood.join(' · ')}`}
        {errors.title && <span className="field-error"> {errors.title}</span>}
      </p>
    </form>
  );
}

export { currentSession };
