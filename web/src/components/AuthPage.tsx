import { useState, type FormEvent, type ReactElement } from 'react';
import { Link } from 'react-router';
import { ApiError, signIn } from '../api/client';
import { browserTimeZone } from '../lib/dates';

export function AuthPage({ mode }: { mode: 'login' | 'register' }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const register = mode === 'register';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setMessage(null);
    try {
      const body: Record<string, string> = { email, password };
      if (register) {
        body.timezone = browserTimeZone();
        if (name.trim()) body.display_name = name.trim();
      }
      await signIn(mode, body);
    } catch (err) {
      if (err instanceof ApiError) {
        setErrors(err.fieldErrors());
        setMessage(err.problem.detail || err.problem.title);
      } else {
        setMessage('The server cannot be reached. Check your connection and try again.');
      }
    } finally {
      setBusy(false);
    }
  };

  const field = (id: string, label: string, input: ReactElement) => (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {input}
      {errors[id] && (
        <p className="field-error" id={`${id}-error`}>
          {errors[id]}
        </p>
      )}
    </div>
  );

  return (
    <main id="main" className="auth">
      <h1>{register ? 'Create your account' : 'Log in'}</h1>
      <form onSubmit={submit} noValidate>
        {register &&
          field('display_name', 'Name (optional)', <input id="display_name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" />)}
        {field('email', 'E-mail', <input id="email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="email" aria-invalid={!!errors.email} aria-describedby={errors.email ? 'email-error' : undefined} />)}
        {field('password', 'Password', <input id="password" type="password" required value={password} onChange={(e) => setPassword(e.target.value)} autoComplete={register ? 'new-password' : 'current-password'} aria-invalid={!!errors.password} aria-describedby={errors.password ? 'password-error' : register ? 'password-hint' : undefined} />)}
        {register && !errors.password && (
          <p className="hint" id="password-hint">At least 8 characters; a passphrase is best.</p>
        )}
        {message && (
          <p className="form-error" role="alert">
            {message}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {register ? 'Sign up' : 'Log in'}
        </button>
      </form>
      <p>
        {register ? (
          <>Already have an account? <Link to="/login">Log in</Link></>
        ) : (
          <>New here? <Link to="/signup">Create an account</Link></>
        )}
      </p>
    </main>
  );
}
