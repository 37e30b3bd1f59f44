// Settings: the account's time zone and default reminders (PATCH /api/me), where reminders go
// (GET/POST/DELETE /api/notification-targets: e-mail, webhook, Web Push in this browser) and the
// browser's permission for notifications in the page.
import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  api,
  ApiError,
  type NotificationTarget,
  type NotificationTargetInput,
  type NotificationTargetList,
  type ProfileChanges,
  type User,
} from '../api/client';
import { browserTimeZone } from '../lib/dates';
import { parseOffsets } from '../lib/reminders';
import { base64UrlToBytes, pushSupport, subscriptionBody } from '../lib/push';

export function SettingsPage() {
  useEffect(() => {
    document.title = 'Settings · Todo';
    return () => {
      document.title = 'Todo';
    };
  }, []);
  return (
    <main id="main" className="settings">
      <h1>Settings</h1>
      <AccountSection />
      <BrowserSection />
      <TargetsSection />
    </main>
  );
}

// ---- account ----------------------------------------------------------------------------------

function zones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: 'timeZone') => string[] };
  try {
    return intl.supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
}

function AccountSection() {
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<User>('GET', '/api/me') });
  return (
    <section aria-labelledby="account-h" className="card">
      <h2 id="account-h">Account</h2>
      {me.isPending && <p>Loading…</p>}
      {me.isError && <p className="form-error" role="alert">{(me.error as Error).message}</p>}
      {me.data && <AccountForm key={me.data.id} user={me.data} />}
    </section>
  );
}

function AccountForm({ user }: { user: User }) {
  const qc = useQueryClient();
  const [timezone, setTimezone] = useState(user.timezone);
  const [offsets, setOffsets] = useState(user.default_reminders.join(', '));
  const [reminderEmail, setReminderEmail] = useState(user.reminder_email ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const allZones = useMemo(zones, []);
  const here = browserTimeZone();

  const save = useMutation({
    mutationFn: (changes: ProfileChanges) => api<User>('PATCH', '/api/me', changes),
    onSuccess: (u) => {
      qc.setQueryData(['me'], u);
      setOffsets(u.default_reminders.join(', '));
      setErrors({});
      setMessage('Saved.');
    },
    onError: (err) => {
      setMessage(null);
      if (err instanceof ApiError) setErrors({ ...err.fieldErrors(), form: err.message });
      else setErrors({ form: 'Could not save.' });
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseOffsets(offsets);
    if (!parsed.ok) {
      setErrors({ default_reminders: parsed.reason });
      setMessage(null);
      return;
    }
    save.mutate({ timezone: timezone.trim(), default_reminders: parsed.value, reminder_email: reminderEmail.trim() || null });
  };

  const err = (field: string) =>
    errors[field] && (
      <p className="field-error" id={`s-${field}-error`}>
        {errors[field]}
      </p>
    );

  return (
    <form onSubmit={submit} className="stack" aria-label="Account settings" noValidate>
      <p className="hint">
        Signed in as <strong>{user.email}</strong>
      </p>
      <div className="field">
        <label htmlFor="s-timezone">Time zone</label>
        <div className="row">
          <input
            id="s-timezone"
            className="grow"
            list="s-timezones"
            value={timezone}
            onChange={(e) => setTimezone(e.target.value)}
            aria-invalid={!!errors.timezone}
            aria-describedby="s-timezone-hint s-timezone-error"
            autoComplete="off"
          />
          {here !== timezone && (
            <button type="button" onClick={() => setTimezone(here)}>
              Use this device’s ({here})
            </button>
          )}
        </div>
        <datalist id="s-timezones">
          {allZones.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <p className="hint" id="s-timezone-hint">
          Quick add and new tasks use it; an IANA name such as Europe/Berlin.
        </p>
        {err('timezone')}
      </div>
      <div className="field">
        <label htmlFor="s-reminders">Default reminders (minutes before the due time, comma-separated)</label>
        <input
          id="s-reminders"
          value={offsets}
          onChange={(e) => setOffsets(e.target.value)}
          inputMode="numeric"
          placeholder="e.g. 10, 60"
          aria-invalid={!!errors.default_reminders}
          aria-describedby="s-reminders-hint s-default_reminders-error"
        />
        <p className="hint" id="s-reminders-hint">
          Given to new tasks with a due time that do not set their own. 0 means at the due time; empty means none.
        </p>
        {err('default_reminders')}
      </div>
      <div className="field">
        <label htmlFor="s-reminder-email">E-mail for reminders (empty: {user.email})</label>
        <input
          id="s-reminder-email"
          type="email"
          value={reminderEmail}
          onChange={(e) => setReminderEmail(e.target.value)}
          autoComplete="email"
          aria-invalid={!!errors.reminder_email}
          aria-describedby="s-reminder_email-error"
        />
        {err('reminder_email')}
      </div>
      <div className="actions start">
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save account settings'}
        </button>
        <span role="status" className="hint">
          {message}
        </span>
      </div>
      {errors.form && (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      )}
    </form>
  );
}

// ---- this browser: notification permission and Web Push ----------------------------------------

type VapidKey = { state: 'configured'; key: string } | { state: 'not-configured'; reason: string };

async function fetchVapidKey(): Promise<VapidKey> {
  try {
    const { public_key } = await api<{ public_key: string }>('GET', '/api/notification-targets/vapid-public-key');
    return { state: 'configured', key: public_key };
  } catch (err) {
    // The server answers 404 when it has no VAPID key pair: push cannot work, so say so.
    if (err instanceof ApiError && err.status === 404) return { state: 'not-configured', reason: err.message };
    throw err;
  }
}

function permissionNow(): NotificationPermission | 'unsupported' {
  return 'Notification' in window ? Notification.permission : 'unsupported';
}

function BrowserSection() {
  const qc = useQueryClient();
  const [permission, setPermission] = useState(permissionNow);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const support = pushSupport(window);
  const vapid = useQuery({ queryKey: ['vapid-key'], queryFn: fetchVapidKey, retry: false, staleTime: Infinity });
  const targets = useQuery({ queryKey: ['notification-targets'], queryFn: () => api<NotificationTargetList>('GET', '/api/notification-targets') });
  // This browser's current subscription, if it has one (and whether the server still has it).
  const current = useQuery({
    queryKey: ['push-subscription'],
    enabled: support === 'supported',
    queryFn: async () => {
      const reg = await navigator.serviceWorker.getRegistration('/');
      const sub = reg ? await reg.pushManager.getSubscription() : null;
      return sub ? sub.endpoint : null;
    },
  });
  const serverTarget = targets.data?.items.find((t) => t.kind === 'webpush' && t.endpoint && t.endpoint === current.data);

  const askPermission = async () => {
    if (!('Notification' in window)) return;
    setPermission(await Notification.requestPermission());
  };

  const enablePush = async () => {
    if (vapid.data?.state !== 'configured') return;
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const granted = await Notification.requestPermission();
      setPermission(granted);
      if (granted !== 'granted') throw new Error('The browser did not allow notifications, so push cannot be turned on.');
      const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
      await navigator.serviceWorker.ready;
      const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(vapid.data.key) });
      const body = subscriptionBody(sub.toJSON());
      if (!body) throw new Error('The browser gave a subscription without keys.');
      try {
        await api<NotificationTarget>('POST', '/api/notification-targets', body);
      } catch (err) {
        // Already registered (target-exists) is fine; anything else undoes the subscription.
        if (!(err instanceof ApiError && err.status === 409 && err.problem.type.endsWith('target-exists'))) {
          await sub.unsubscribe().catch(() => undefined);
          throw err;
        }
      }
      setMessage('Push is on: reminders reach this browser even when Todo is closed.');
    } catch (err) {
      setError(`Could not turn on push: ${err instanceof Error ? err.message : 'the browser refused.'}`);
    } finally {
      setBusy(false);
      void qc.invalidateQueries({ queryKey: ['notification-targets'] });
      void qc.invalidateQueries({ queryKey: ['push-subscription'] });
    }
  };

  const disablePush = async () => {
    setBusy(true);
    setError(null);
    try {
      if (serverTarget) await api<void>('DELETE', `/api/notification-targets/${serverTarget.id}`);
      const reg = await navigator.serviceWorker.getRegistration('/');
      await (await reg?.pushManager.getSubscription())?.unsubscribe();
      setMessage('Push is off in this browser.');
    } catch (err) {
      setError(`Could not turn off push: ${err instanceof Error ? err.message : 'the browser refused.'}`);
    } finally {
      setBusy(false);
      void qc.invalidateQueries({ queryKey: ['notification-targets'] });
      void qc.invalidateQueries({ queryKey: ['push-subscription'] });
    }
  };

  let pushState: string;
  let canEnable = false;
  if (support === 'insecure') pushState = 'Not available: push needs an https page (or localhost).';
  else if (support !== 'supported') pushState = 'Not available: this browser has no Web Push.';
  else if (vapid.isPending) pushState = 'Checking the server…';
  else if (vapid.isError) pushState = `Could not ask the server: ${(vapid.error as Error).message}`;
  else if (vapid.data.state === 'not-configured') pushState = 'Not configured on this server (it has no VAPID key), so push cannot be turned on.';
  else if (serverTarget) pushState = 'On in this browser.';
  else {
    pushState = permission === 'denied' ? 'Blocked: notifications are denied for this site in the browser’s settings.' : 'Off in this browser.';
    canEnable = permission !== 'denied';
  }

  return (
    <section aria-labelledby="browser-h" className="card">
      <h2 id="browser-h">Notifications in this browser</h2>
      <div className="setting-row">
        <div>
          <h3>While Todo is open</h3>
          <p className="hint">
            A reminder always shows in the page. The browser can also show it as a system notification:{' '}
            <strong data-testid="permission">
              {permission === 'granted' ? 'allowed' : permission === 'denied' ? 'blocked' : permission === 'unsupported' ? 'not supported' : 'not asked yet'}
            </strong>
            .
          </p>
        </div>
        {permission === 'default' && (
          <button type="button" onClick={() => void askPermission()}>
            Allow notifications
          </button>
        )}
      </div>
      <div className="setting-row">
        <div>
          <h3>Web Push</h3>
          <p className="hint" data-testid="push-state">
            {pushState}
          </p>
        </div>
        {serverTarget ? (
          <button type="button" onClick={() => void disablePush()} disabled={busy}>
            Turn off push
          </button>
        ) : (
          <button type="button" className="primary" onClick={() => void enablePush()} disabled={!canEnable || busy}>
            {busy ? 'Enabling…' : 'Enable push in this browser'}
          </button>
        )}
      </div>
      <p role="status" className="hint">
        {message}
      </p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

// ---- notification targets -----------------------------------------------------------------------

function targetText(t: NotificationTarget): string {
  if (t.kind === 'email') return t.address ?? '';
  if (t.kind === 'webhook') return t.url ?? '';
  if (t.kind === 'webpush') return t.endpoint ? `a browser (${new URL(t.endpoint).host})` : 'a browser';
  return 'a phone (FCM)';
}

const KIND_NAMES: Record<string, string> = { email: 'E-mail', webhook: 'Webhook', webpush: 'Push', fcm: 'Phone push' };

function TargetsSection() {
  const qc = useQueryClient();
  const targets = useQuery({ queryKey: ['notification-targets'], queryFn: () => api<NotificationTargetList>('GET', '/api/notification-targets') });
  const [created, setCreated] = useState<NotificationTarget | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const remove = useMutation({
    mutationFn: (t: NotificationTarget) => api<void>('DELETE', `/api/notification-targets/${t.id}`),
    onSuccess: (_v, t) => setNotice(`Removed ${KIND_NAMES[t.kind] ?? t.kind} target ${targetText(t)}.`),
    onError: (err) => setNotice(err instanceof Error ? err.message : 'Could not remove the target.'),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ['notification-targets'] });
      void qc.invalidateQueries({ queryKey: ['push-subscription'] });
    },
  });

  return (
    <section aria-labelledby="targets-h" className="card">
      <h2 id="targets-h">Where reminders go</h2>
      {targets.isPending && <p>Loading…</p>}
      {targets.isError && <p className="form-error" role="alert">{(targets.error as Error).message}</p>}
      {targets.data && (
        <>
          {targets.data.default_email_used && (
            <p className="hint">
              With no e-mail target, reminders are e-mailed to <strong>{targets.data.default_email}</strong>. They also always show in the app.
            </p>
          )}
          {targets.data.items.length === 0 ? (
            <p className="empty">No targets yet.</p>
          ) : (
            <ul className="targets" aria-label="Notification targets">
              {targets.data.items.map((t) => (
                <li key={t.id} data-testid="target">
                  <span className="kind">{KIND_NAMES[t.kind] ?? t.kind}</span>
                  <span className="address">{targetText(t)}</span>
                  <time className="hint" dateTime={t.created_at}>
                    added {new Date(t.created_at).toLocaleDateString()}
                  </time>
                  <button type="button" className="ghost" onClick={() => remove.mutate(t)} disabled={remove.isPending} aria-label={`Remove ${KIND_NAMES[t.kind] ?? t.kind} target ${targetText(t)}`}>
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <p role="status" className="hint">
        {notice}
      </p>
      {created?.secret && <SecretOnce target={created} onDone={() => setCreated(null)} />}
      <AddTarget
        onAdded={(t) => {
          setCreated(t);
          setNotice(`Added ${KIND_NAMES[t.kind] ?? t.kind} target ${targetText(t)}.`);
        }}
      />
    </section>
  );
}

function AddTarget({ onAdded }: { onAdded: (t: NotificationTarget) => void }) {
  const qc = useQueryClient();
  const [kind, setKind] = useState<'email' | 'webhook'>('email');
  const [value, setValue] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const field = kind === 'email' ? 'address' : 'url';
  const add = useMutation({
    gcTime: 0, // the answer may hold a webhook secret: keep it nowhere but the panel
    mutationFn: (input: NotificationTargetInput) => api<NotificationTarget>('POST', '/api/notification-targets', input),
    onSuccess: (t) => {
      setValue('');
      setErrors({});
      onAdded(t);
    },
    onError: (err) => {
      if (err instanceof ApiError) {
        const fields = err.fieldErrors();
        setErrors({ ...fields, form: Object.keys(fields).length ? '' : err.message });
      } else setErrors({ form: 'Could not add the target.' });
    },
    onSettled: () => void qc.invalidateQueries({ queryKey: ['notification-targets'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate(kind === 'email' ? { kind, address: value.trim() } : { kind, url: value.trim() });
  };
  const error = errors[field];
  return (
    <form onSubmit={submit} className="add-target" aria-label="Add a target" noValidate>
      <h3>Add a target</h3>
      <div className="row">
        <div className="field">
          <label htmlFor="t-kind">Kind</label>
          <select
            id="t-kind"
            value={kind}
            onChange={(e) => {
              setKind(e.target.value === 'webhook' ? 'webhook' : 'email');
              setErrors({});
            }}
          >
            <option value="email">E-mail</option>
            <option value="webhook">Webhook</option>
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="t-value">{kind === 'email' ? 'E-mail address' : 'Webhook URL'}</label>
          <input
            id="t-value"
            type={kind === 'email' ? 'email' : 'url'}
            value={value}
            onChange={(e) => setValue(e.target.value)}
            placeholder={kind === 'email' ? 'me@example.com' : 'https://example.com/hooks/todo'}
            aria-invalid={!!error}
            aria-describedby="t-value-error"
            required
          />
        </div>
        <button type="submit" className="primary align-end" disabled={!value.trim() || add.isPending}>
          Add
        </button>
      </div>
      {error && (
        <p className="field-error" id="t-value-error">
          {error}
        </p>
      )}
      {errors.form && (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      )}
      {kind === 'webhook' && (
        <p className="hint">Each reminder is POSTed as JSON, signed with a secret that is shown once, right after you add the webhook.</p>
      )}
    </form>
  );
}

function SecretOnce({ target, onDone }: { target: NotificationTarget; onDone: () => void }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const id = useId();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(target.secret ?? '');
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <div className="secret" role="region" aria-labelledby={`${id}-h`} data-testid="webhook-secret">
      <h3 id={`${id}-h`}>Signing secret for {target.url}</h3>
      <p>
        <strong>Shown once.</strong> Copy it now and keep it with your receiver: Todo will not show it again. (To get a new one, remove the
        webhook and add it again.)
      </p>
      <div className="row">
        <code className="grow secret-value" aria-label="Signing secret">
          {target.secret}
        </code>
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" className="ghost" onClick={onDone}>
          I have saved it
        </button>
      </div>
      <p role="status" className="hint">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'failed' ? 'The browser refused the clipboard; select the secret and copy it.' : ''}
      </p>
    </div>
  );
}
