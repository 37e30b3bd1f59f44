import { lazy, Suspense, useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { Navigate, NavLink, Route, Routes, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { currentSession, onSessionChange, signOut } from './api/client';
import { connectLive, type LiveState } from './live';
import { parseReminderFrame, type FiredReminder } from './lib/reminders';
import { AuthPage } from './components/AuthPage';
import { TasksPage } from './components/TasksPage';
import { ReminderToasts, showSystemNotification } from './components/ReminderToasts';

function useSession() {
  return useSyncExternalStore(
    (cb) => onSessionChange(cb),
    () => localStorage.getItem('todo.session'),
  );
}

// Settings is a page of its own, loaded when visited.
const SettingsPage = lazy(() => import('./components/SettingsPage').then((m) => ({ default: m.SettingsPage })));

const MAX_REMINDER_TOASTS = 5;

export function App() {
  const raw = useSession();
  const session = raw ? currentSession() : null;
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [live, setLive] = useState<LiveState>('connecting');
  const [reminders, setReminders] = useState<FiredReminder[]>([]);
  const signedIn = session !== null;

  const dismissReminder = useCallback((id: string) => setReminders((rs) => rs.filter((r) => r.reminderId !== id)), []);

  useEffect(() => {
    if (!signedIn) return;
    return connectLive({
      onChange: () => void qc.invalidateQueries({ queryKey: ['tasks'] }),
      onResync: () => void qc.invalidateQueries(),
      onState: setLive,
      onReminder: (frame) => {
        const r = parseReminderFrame(frame);
        if (!r) return;
        setReminders((rs) => [...rs.filter((x) => x.reminderId !== r.reminderId), r].slice(-MAX_REMINDER_TOASTS));
        // The delivery log of that task has new rows.
        void qc.invalidateQueries({ queryKey: ['tasks', 'reminders', r.taskId] });
        showSystemNotification(r, () => navigate(`/tasks/${r.taskId}`));
      },
    });
  }, [signedIn, qc, navigate]);

  useEffect(() => {
    if (!signedIn) {
      qc.clear();
      setReminders([]);
    }
  }, [signedIn, qc]);

  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top" role="banner">
        <span className="brand" aria-hidden="true">✓</span>
        <span className="brand-name">Todo</span>
        {session && (
          <>
            <nav aria-label="Main" className="main-nav">
              <NavLink to="/tasks">Tasks</NavLink>
              <NavLink to="/settings">Settings</NavLink>
            </nav>
            <span className={`live live-${live}`} role="status" aria-live="polite">
              {live === 'online' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Offline'}
            </span>
            <span className="who">{session.email}</span>
            <button type="button" className="ghost" onClick={() => void signOut()}>
              Log out
            </button>
          </>
        )}
      </header>
      {session && live === 'offline' && (
        <div className="offline-banner" data-testid="offline-banner">
          <strong>You are offline.</strong> The list shows what was loaded last; changes made elsewhere appear when the connection
          is back (it retries by itself).
        </div>
      )}
      <ReminderToasts items={reminders} onDismiss={dismissReminder} />
      <Routes>
        <Route path="/login" element={session ? <Navigate to="/" replace /> : <AuthPage mode="login" />} />
        <Route path="/signup" element={session ? <Navigate to="/" replace /> : <AuthPage mode="register" />} />
        <Route path="/tasks/:id?" element={session ? <TasksPage /> : <Navigate to="/login" replace />} />
        <Route
          path="/settings"
          element={
            session ? (
              <Suspense fallback={<main id="main"><p>Loading…</p></main>}>
                <SettingsPage />
              </Suspense>
            ) : (
              <Navigate to="/login" replace />
            )
          }
        />
        <Route path="*" element={session ? <Navigate to="/tasks" replace /> : <Navigate to="/login" replace />} />
      </Routes>
    </>
  );
}
