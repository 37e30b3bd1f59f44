import { describe, expect, it } from 'vitest';
import { base64UrlToBytes, pushSupport, subscriptionBody } from './push';

describe('web push helpers', () => {
  it('decodes base64url without padding', () => {
    expect([...base64UrlToBytes('-_8')]).toEqual([0xfb, 0xff]);
    expect(base64UrlToBytes('BAAA').length).toBe(3);
  });
  it('needs a secure context, a service worker and PushManager', () => {
    const nav = { serviceWorker: {} } as unknown as Navigator;
    expect(pushSupport({ isSecureContext: false, navigator: nav })).toBe('insecure');
    expect(pushSupport({ isSecureContext: true, navigator: {} as Navigator })).toBe('no-service-worker');
    expect(pushSupport({ isSecureContext: true, navigator: nav })).toBe('no-push');
    expect(pushSupport({ isSecureContext: true, navigator: nav, PushManager: function () {} as unknown as typeof PushManager })).toBe('supported');
  });
  it('sends only endpoint and keys', () => {
    expect(subscriptionBody({ endpoint: 'https://push.example/x', expirationTime: null, keys: { p256dh: 'p', auth: 'a' } })).toEqual({
      kind: 'webpush',
      subscription: { endpoint: 'https://push.example/x', keys: { p256dh: 'p', auth: 'a' } },
    });
    expect(subscriptionBody({ endpoint: 'https://push.example/x' })).toBeNull();
  });
});
