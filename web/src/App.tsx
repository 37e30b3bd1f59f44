import { useEffect, useState, useSyncExternalStore } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { currentSession, onSessionChange, signOut } from './api/client';
import { connectLive, type LiveState } from './live';
import { AuthPage } from './components/AuthPage';
import { TasksPage } from './components/TasksPage';

function useSession() {
  return useSyncExternalStore(
    (cb) => onSessionChange(cb),
    () => localStorage.getItem('todo.session'),
  );
}

export function App() {
  const raw = useSession();
  const session = raw ? currentSession() : null;
  const qc = useQueryClient();
  const [live, setLive] = useState<LiveState>('connecting');
  const [reminder, setReminder] = useState<string | null>(null);
  const signedIn = session !== null;

  useEffect(() => {
    if (!signedIn) return;
    return connectLive({
      onChange: () => void qc.invalidateQueries({ queryKey: ['tasks'] }),
      onResync: () => void qc.invalidateQueries(),
      onState: setLive,
      onReminder: (f) => {
        const title = String((f.task as { title?: string } | undefined)?.title ?? f.title ?? 'A task');
        setReminder(`Reminder: ${title}`);
        if ('Notification' in window && Notification.permission === 'granted') new Notification('Todo', { body: title });
      },
    });
  }, [signedIn, qc]);

  useEffect(() => {
    if (!signedIn) qc.clear();
  }, [signedIn, qc]);

  return (
    <>
      <a className="skip" href="#main">Skip to tasks</a>
      <header className="top" role="banner">
        <span className="brand" aria-hidden="true">✓</span>
        <span className="brand-name">Todo</span>
        {session && (
          <>
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
      {reminder && (
        <div className="toast toast-reminder" role="alert">
          {reminder}{' '}
          <button type="button" className="ghost" onClick={() => setReminder(null)}>
            Dismiss
          </button>
        </div>
      )}
      <Routes>
        <Route path="/login" element={session ? <Navigate to="/" replace /> : <AuthPage mode="login" />} />
        <Route path="/signup" element={session ? <Navigate to="/" replace /> : <AuthPage mode="register" />} />
        <Route path="/tasks/:id?" element={session ? <TasksPage /> : <Navigate to="/login" replace />} />
        <Route path="*" element={session ? <Navigate to="/tasks" replace /> : <Navigate to="/login" replace />} />
      </Routes>
    </>
  );
}
