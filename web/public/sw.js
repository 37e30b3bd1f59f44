// Todo's service worker: shows a reminder that arrives by Web Push, and opens (or focuses) the app
// at the task when the notification is clicked. Nothing is cached: the app needs the server anyway.
// The payload is the server's (src/services/notify/web_push.cpp push_payload):
// {type, title, body, task_id, due_at, fire_at, late, url, delivery_id}.
'use strict';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : '' };
  }
  const title = data.title ? `Reminder: ${data.title}` : 'Todo reminder';
  const path = data.task_id ? `/tasks/${encodeURIComponent(data.task_id)}` : '/tasks';
  event.waitUntil(
    self.registration.showNotification(title, {
      body: data.body || '',
      // The same tag as the page's own notification of this reminder: one notification, not two.
      tag: data.task_id ? `reminder:${data.task_id}:${data.fire_at || ''}` : undefined,
      icon: '/favicon.svg',
      data: { path },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const path = (event.notification.data && event.notification.data.path) || '/tasks';
  const target = new URL(path, self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin !== self.location.origin) continue;
        await client.focus();
        if ('navigate' in client) {
          try {
            await client.navigate(target);
          } catch {
            /* an uncontrolled page cannot be navigated; it is focused at least */
          }
        }
        return;
      }
      await self.clients.openWindow(target);
    })(),
  );
});
