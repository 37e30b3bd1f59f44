// Web Push helpers: the VAPID key as the browser wants it, and what the server's answers mean.

// A base64url string (the VAPID public key from the API) as bytes for pushManager.subscribe.
export function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const raw = atob(padded);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

export type PushSupport = 'supported' | 'no-service-worker' | 'no-push' | 'insecure';

export function pushSupport(w: { isSecureContext: boolean; navigator: Navigator; PushManager?: unknown }): PushSupport {
  if (!w.isSecureContext) return 'insecure';
  if (!('serviceWorker' in w.navigator)) return 'no-service-worker';
  if (!w.PushManager) return 'no-push';
  return 'supported';
}

// The subscription's JSON as the API's webpush target wants it.
export function subscriptionBody(sub: PushSubscriptionJSON): { kind: 'webpush'; subscription: { endpoint: string; keys: { p256dh: string; auth: string } } } | null {
  const p256dh = sub.keys?.p256dh;
  const auth = sub.keys?.auth;
  if (!sub.endpoint || !p256dh || !auth) return null;
  return { kind: 'webpush', subscription: { endpoint: sub.endpoint, keys: { p256dh, auth } } };
}
