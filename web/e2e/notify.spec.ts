// Settings (notification targets, push, account), a reminder arriving in the page, the task's
// delivery log, the phone layout (filters toggle, sign-up heading) and the empty/offline states.
import { test, expect } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiCall, axe, secondsFromNow, shot, signUp } from './helpers';

// A webhook receiver on 127.0.0.1 (the server runs with --allow-private-webhooks): answers 200 and
// keeps what it received.
async function webhookReceiver(): Promise<{ url: string; bodies: string[]; server: Server }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/todo`, bodies, server };
}

test('settings: reachable by keyboard; add an e-mail and a webhook (secret shown once), delete; push state; account', async ({ browser }) => {
  const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write', 'notifications'] });
  const page = await context.newPage();
  const email = await signUp(page);

  // From the header, by keyboard.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByText(`reminders are e-mailed to ${email}`)).toBeVisible();

  // `todo serve` made a VAPID key pair in its data dir: push can be turned on here.
  await expect(page.getByTestId('permission')).toHaveText('allowed');
  await expect(page.getByTestId('push-state')).toHaveText('Off in this browser.');
  await expect(page.getByRole('button', { name: 'Enable push in this browser' })).toBeEnabled();
  await page.getByRole('button', { name: 'Enable push in this browser' }).click();
  // The service worker registers under the server's CSP; subscribing needs the browser vendor's
  // push service, which this machine cannot reach: the page says why and saves no target.
  await expect.poll(() => page.evaluate(async () => (await navigator.serviceWorker.getRegistration('/'))?.active?.scriptURL ?? null), { timeout: 15_000 }).toMatch(/\/sw\.js$/);
  await expect(page.getByRole('alert').filter({ hasText: /^Could not turn on push: / })).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId('push-state')).toHaveText('Off in this browser.');
  await expect(page.getByRole('list', { name: 'Notification targets' })).toHaveCount(0);

  // An invalid address gets the server's field error next to the field.
  await page.getByLabel('E-mail address').fill('not-an-address');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.locator('#t-value-error')).toBeVisible();

  await page.getByLabel('E-mail address').fill('Alerts@Example.com');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  const targets = page.getByRole('list', { name: 'Notification targets' });
  await expect(targets.getByTestId('target').filter({ hasText: 'alerts@example.com' })).toBeVisible();
  await expect(page.getByText('reminders are e-mailed to')).toHaveCount(0);

  await page.getByLabel('Kind').selectOption('webhook');
  await page.getByLabel('Webhook URL').fill('http://127.0.0.1:9/hooks/todo');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  const secret = page.getByTestId('webhook-secret');
  await expect(secret).toContainText('Shown once.');
  const value = (await secret.getByLabel('Signing secret').textContent()) ?? '';
  expect(value).toMatch(/^whsec_/);
  await secret.getByRole('button', { name: 'Copy' }).click();
  await expect(secret).toContainText('Copied to the clipboard.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);
  await expect(targets.getByTestId('target')).toHaveCount(2);
  await shot(page, 'settings');
  await axe(page);

  // The secret is not shown again: not after "I have saved it", not in the list.
  await secret.getByRole('button', { name: 'I have saved it' }).click();
  await expect(page.getByTestId('webhook-secret')).toHaveCount(0);
  await page.reload();
  await expect(targets.getByTestId('target')).toHaveCount(2);
  await expect(page.getByText(value)).toHaveCount(0);

  await page.getByRole('button', { name: 'Remove E-mail target alerts@example.com' }).click();
  await expect(targets.getByTestId('target')).toHaveCount(1);
  await expect(page.getByRole('status').filter({ hasText: 'Removed E-mail target' })).toBeVisible();

  // Account: zone and default reminders, kept by the server.
  await page.getByLabel('Time zone').fill('Asia/Tokyo');
  await page.getByLabel(/^Default reminders/).fill('60, 10');
  await page.getByRole('button', { name: 'Save account settings' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  await page.getByLabel('Time zone').fill('Not/A_Zone');
  await page.getByRole('button', { name: 'Save account settings' }).click();
  await expect(page.locator('#s-timezone-error')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Time zone')).toHaveValue('Asia/Tokyo');
  await expect(page.getByLabel(/^Default reminders/)).toHaveValue('10, 60');
  await axe(page);
  await context.close();
});

test('push on a server without a VAPID key: "not configured", and the button cannot be pressed', async ({ page }) => {
  await signUp(page);
  // A real server always has a key (it makes one in its data dir), so the answer of one that could
  // not load it (notify_routes.cpp vapid_key: 404 problem+json) is played back here.
  await page.route('**/api/notification-targets/vapid-public-key', (route) =>
    route.fulfill({
      status: 404,
      contentType: 'application/problem+json',
      body: JSON.stringify({ type: 'route-not-found', title: 'Not Found', status: 404, detail: 'Web Push is not configured on this server.', instance: '/api/notification-targets/vapid-public-key' }),
    }),
  );
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByTestId('push-state')).toHaveText(/Not configured on this server/);
  await expect(page.getByRole('button', { name: 'Enable push in this browser' })).toBeDisabled();
});

test('a reminder fires into the page as a toast, and the delivery log shows where it went', async ({ page }) => {
  const hook = await webhookReceiver();
  try {
    await signUp(page);
    await apiCall(page, 'POST', '/api/notification-targets', { kind: 'webhook', url: hook.url });
    await expect(page.getByText('Live', { exact: true })).toBeVisible({ timeout: 10_000 });
    // Due in a few seconds with a reminder at the due time: the server fires it on its own clock.
    const task = await apiCall<{ id: string }>(page, 'POST', '/api/tasks', {
      title: 'Stretch your legs',
      due_date: secondsFromNow(4),
      timezone: 'UTC',
      reminders: [0],
    });
    const toast = page.getByRole('alert').filter({ hasText: 'Reminder: Stretch your legs' });
    await expect(toast).toBeVisible({ timeout: 20_000 });
    await shot(page, 'reminder-toast');

    await toast.getByRole('link', { name: 'Open' }).click();
    await expect(page).toHaveURL(new RegExp(`/tasks/${task.id}`));
    await expect(toast).toHaveCount(0);
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('tab', { name: 'Reminders' }).click();
    const entry = dialog.getByTestId('reminder-entry');
    await expect(entry).toHaveCount(1);
    await expect(entry).toContainText('at the due time');
    await expect(entry).toContainText('sent');
    const rows = entry.getByTestId('delivery');
    await expect(rows.filter({ hasText: 'In the app' })).toContainText('delivered');
    // No SMTP on the test server: the account's e-mail is logged as not configured, with why.
    await expect(rows.filter({ hasText: 'E-mail to' })).toContainText('not configured');
    await expect(rows.filter({ hasText: 'E-mail to' })).toContainText('the email channel is not configured');
    await expect(rows.filter({ hasText: `Webhook ${hook.url}` })).toContainText('delivered', { timeout: 15_000 });
    expect(hook.bodies.some((b) => b.includes('Stretch your legs'))).toBe(true);
    await shot(page, 'delivery-log');
    await axe(page);
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(rows.filter({ hasText: 'In the app' })).toBeVisible();
    await shot(page, 'phone-delivery-log');
  } finally {
    hook.server.close();
  }
});

test('phone (390 px): filters fold behind a toggle; the sign-up heading stays on one line', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.goto('/signup');
  const heading = page.getByRole('heading', { name: 'Create your account' });
  const box = await heading.boundingBox();
  const lineHeight = await heading.evaluate((el) => parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.2);
  expect(box!.height).toBeLessThan(lineHeight * 1.5);
  await shot(page, 'phone-signup');

  await signUp(page);
  await expect(page.getByTestId('empty-state')).toContainText('Nothing to do');
  const toggle = page.getByRole('button', { name: /^Filters/ });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(page.getByLabel('Priority')).toBeHidden();
  await expect(page.getByLabel('Search')).toBeVisible();
  await shot(page, 'phone-empty');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await page.getByLabel('Priority').selectOption('high');
  await expect(page).toHaveURL(/priority=high/);
  await expect(toggle).toHaveText(/Filters \(1\)/);
  await expect(page.getByTestId('empty-state')).toContainText('No tasks match this view');
  await shot(page, 'phone-filters');
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await axe(page);
  await toggle.click();
  await expect(page.getByLabel('Priority')).toBeHidden();

  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await shot(page, 'phone-settings');
  await context.close();
});

test('desktop: filters always shown; empty and offline states', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUp(page);
  await expect(page.getByRole('button', { name: /^Filters/ })).toBeHidden();
  await expect(page.getByLabel('Priority')).toBeVisible();
  await expect(page.getByTestId('empty-state')).toContainText('Nothing to do');
  await page.getByRole('button', { name: 'Add a task' }).click();
  await expect(page.getByRole('textbox', { name: 'New task' })).toBeFocused();
  await shot(page, 'empty');
  await expect(page.getByText('Live', { exact: true })).toBeVisible({ timeout: 10_000 });
  await context.setOffline(true);
  await expect(page.getByTestId('offline-banner')).toBeVisible();
  await expect(page.getByText('Offline', { exact: true })).toBeVisible();
  await shot(page, 'offline');
  await context.setOffline(false);
  await expect(page.getByText('Live', { exact: true })).toBeVisible({ timeout: 10_000 });
  await expect(page.getByTestId('offline-banner')).toHaveCount(0);
  await context.close();
});
