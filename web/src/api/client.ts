// The API client: typed by schema.d.ts (generated from docs/api/openapi.json at build time), with
// the session's tokens, silent refresh with rotation (one refresh at a time across tabs) and
// problem+json errors as ApiError.
import type { components } from './schema';

export type Task = components['schemas']['Task'];
export type TaskInput = components['schemas']['TaskInput'];
export type TaskPage = components['schemas']['TaskPage'];
export type TokenResponse = components['schemas']['TokenResponse'];
export type User = components['schemas']['User'];
export type Problem = components['schemas']['Problem'];
export type AuditPage = components['schemas']['AuditPage'];
export type AuditEntry = components['schemas']['AuditEntry'];
export type OccurrencePreview = components['schemas']['OccurrencePreview'];
export type RecurrencePreviewRequest = components['schemas']['RecurrencePreviewRequest'];
export type ProfileChanges = components['schemas']['ProfileChanges'];
export type NotificationTarget = components['schemas']['NotificationTarget'];
export type NotificationTargetInput = components['schemas']['NotificationTargetInput'];
export type NotificationTargetList = components['schemas']['NotificationTargetList'];
export type TaskReminders = components['schemas']['TaskReminders'];
export type ReminderRecord = components['schemas']['Reminder'];
export type Delivery = components['schemas']['Delivery'];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title);
  }
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) out[e.field] = e.reason;
    return out;
  }
}

interface Session {
  access_token: string;
  refresh_token: string;
  expires_at: number; // ms since epoch
  user_id: string;
  email: string;
}

const KEY = 'todo.session';
const listeners = new Set<(s: Session | null) => void>();

export function currentSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function onSessionChange(fn: (s: Session | null) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function saveSession(tokens: TokenResponse | null) {
  const session: Session | null = tokens && {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: Date.now() + tokens.expires_in * 1000,
    user_id: tokens.user_id,
    email: tokens.email,
  };
  if (session) localStorage.setItem(KEY, JSON.stringify(session));
  else localStorage.removeItem(KEY);
  listeners.forEach((fn) => fn(session));
}

// Another tab signing in or out is this tab's session too.
window.addEventListener('storage', (e) => {
  if (e.key === KEY) listeners.forEach((fn) => fn(currentSession()));
});

async function parseError(res: Response): Promise<ApiError> {
  let problem: Problem;
  try {
    problem = (await res.json()) as Problem;
  } catch {
    problem = { type: 'network', title: res.statusText || 'Request failed', status: res.status, detail: `The server answered ${res.status}.`, instance: '' };
  }
  return new ApiError(res.status, problem);
}

// Rotation: a refresh token works once. Tabs take a lock and re-read the stored session, so a
// second tab uses the tokens the first one just got instead of replaying the old one (which would
// revoke the family).
async function refresh(used: string): Promise<Session | null> {
  const run = async () => {
    const now = currentSession();
    if (!now) return null;
    if (now.refresh_token !== used) return now;
    const res = await fetch('/api/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: now.refresh_token }),
    });
    if (!res.ok) {
      saveSession(null);
      return null;
    }
    saveSession((await res.json()) as TokenResponse);
    return currentSession();
  };
  return navigator.locks ? navigator.locks.request('todo.refresh', run) : run();
}

export async function accessToken(): Promise<string | null> {
  let s = currentSession();
  if (s && s.expires_at - Date.now() < 30_000) s = await refresh(s.refresh_token);
  return s?.access_token ?? null;
}

export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const send = async (token: string | null) =>
    fetch(path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  let res = await send(await accessToken());
  if (res.status === 401 && currentSession()) {
    const s = await refresh(currentSession()!.refresh_token);
    if (s) res = await send(s.access_token);
  }
  if (!res.ok) throw await parseError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export async function signIn(kind: 'login' | 'register', body: Record<string, string>) {
  const res = await fetch(`/api/auth/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw await parseError(res);
  saveSession((await res.json()) as TokenResponse);
}

export async function signOut() {
  const s = currentSession();
  saveSession(null);
  if (s) {
    await fetch('/api/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: s.refresh_token }),
    }).catch(() => undefined);
  }
}

// The fields of a task that make it again (undo of a delete).
export function recreateInput(t: Task): TaskInput {
  return {
    title: t.title,
    description: t.description,
    status: t.status,
    priority: t.priority,
    tags: t.tags,
    due_date: t.due_date,
    all_day: t.all_day,
    timezone: t.timezone,
    recurrence: t.recurrence,
    recurrence_mode: t.recurrence_mode,
    reminders: t.reminders,
  };
}
