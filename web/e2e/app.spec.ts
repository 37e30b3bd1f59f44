import { test, expect } from '@playwright/test';
import { axe, shot, signUp } from './helpers';

test('sign-up shows field errors from problem+json, then signs up and logs out', async ({ page }) => {
  await page.goto('/signup');
  await page.getByLabel('E-mail').fill('not-an-email');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.locator('#email-error')).toBeVisible();
  await expect(page.locator('#password-error')).toBeVisible();
  await shot(page, 'signup-errors');
  await axe(page);
  const email = await signUp(page);
  await expect(page.getByText(email)).toBeVisible();
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('heading', { name: 'Log in' })).toBeVisible();
  await axe(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill('wrong password here');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('textbox', { name: 'New task' })).toBeVisible();
});

test('quick add previews what it understood; complete, delete and undo', async ({ page }) => {
  await signUp(page);
  const quick = page.getByRole('textbox', { name: 'New task' });
  await quick.fill('Buy milk tomorrow 9am #shop !high');
  await expect(page.locator('#quick-add-preview')).toContainText('“Buy milk”');
  await expect(page.locator('#quick-add-preview')).toContainText('09:00');
  await expect(page.locator('#quick-add-preview')).toContainText('high priority');
  await expect(page.locator('#quick-add-preview')).toContainText('#shop');
  await quick.press('Enter');
  const row = page.getByTestId('task').filter({ hasText: 'Buy milk' });
  await expect(row).toContainText('Tomorrow, 09:00');
  await expect(row).toContainText('#shop');
  await shot(page, 'task-list');
  await axe(page);

  await row.getByRole('checkbox').click(); // not check(): the row may leave the list before the state is read back
  await expect(row).toHaveCount(0); // open tasks only, by default
  await page.getByLabel('Status').selectOption('completed');
  await expect(page).toHaveURL(/status=completed/);
  await expect(page.getByTestId('task').filter({ hasText: 'Buy milk' })).toBeVisible();
  await page.getByTestId('task').filter({ hasText: 'Buy milk' }).getByRole('checkbox').click();
  await page.getByLabel('Status').selectOption('pending');
  await expect(row).toBeVisible();

  await row.getByRole('button', { name: 'Delete "Buy milk"' }).click();
  await expect(row).toHaveCount(0);
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(row).toContainText('#shop');
  await expect(row).toContainText('high');
  await expect(row).toContainText('Tomorrow, 09:00');
});

test('editor: every field, rule builder with server preview, history', async ({ page }) => {
  await signUp(page);
  await page.getByRole('textbox', { name: 'New task' }).fill('Team sync');
  await page.getByRole('textbox', { name: 'New task' }).press('Enter');
  await page.getByRole('button', { name: 'Team sync', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByLabel('Title')).toHaveValue('Team sync');
  await dialog.getByLabel('Description').fill('Agenda in the doc');
  await dialog.getByLabel('Priority').selectOption('low');
  await dialog.getByLabel('Tags (comma-separated)').fill('work, weekly');
  await dialog.getByLabel('Due date').fill('2027-01-12');
  await dialog.getByLabel('Time (empty: all day)').fill('10:30');
  await dialog.getByLabel('Time zone').fill('Europe/Berlin');
  await dialog.getByLabel('Reminders (minutes before, comma-separated)').fill('10, 60');
  await dialog.getByLabel('Repeats').selectOption('custom');
  await dialog.getByLabel('Unit').selectOption('MONTHLY');
  await dialog.getByLabel('On', { exact: true }).selectOption('nth');
  await dialog.getByLabel('Ends').selectOption('count');
  await dialog.getByLabel('Times').fill('3');
  const preview = dialog.getByTestId('rule-preview');
  // The 2nd Tuesday of each month after the due date (12 Jan 2027), in Berlin time; COUNT=3 ends it.
  await expect(preview.locator('li')).toHaveText(['2027-02-09 10:30:00+01:00', '2027-03-09 10:30:00+01:00']);
  await shot(page, 'editor');
  await axe(page);
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);
  const row = page.getByTestId('task').filter({ hasText: 'Team sync' });
  await expect(row).toContainText('#weekly');
  await expect(row).toContainText('low');

  await row.getByRole('button', { name: 'Team sync', exact: true }).click();
  await page.getByRole('tab', { name: 'History' }).click();
  const history = page.getByRole('list', { name: 'History' });
  await expect(history).toContainText('created the task');
  await expect(history).toContainText('priority: medium → low', { timeout: 10_000 });
  await shot(page, 'history');
  await axe(page);
});

test('keyboard only: n, type, Enter; j/k and x complete', async ({ page }) => {
  await signUp(page);
  await page.locator('body').click({ position: { x: 5, y: 300 } });
  await page.keyboard.press('n');
  await page.keyboard.type('Typed without a mouse !high');
  await page.keyboard.press('Enter');
  await page.keyboard.type('Second one');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('task')).toHaveCount(2);
  await page.keyboard.press('Escape');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  await expect(page.getByTestId('task').first()).toHaveClass(/cursor/);
  await page.keyboard.press('x');
  await expect(page.getByTestId('task')).toHaveCount(1);
  await page.keyboard.press('/');
  await expect(page.getByLabel('Search')).toBeFocused();
});

test('phone viewport (390 px): list and editor fit', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await signUp(page);
  await page.getByRole('textbox', { name: 'New task' }).fill('Phone task with a rather long title that has to wrap nicely #mobile today 6pm');
  await page.getByRole('textbox', { name: 'New task' }).press('Enter');
  await expect(page.getByTestId('task')).toHaveCount(1);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
  await shot(page, 'phone-list');
  await axe(page);
  await page.getByTestId('task').getByRole('button').first().click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await shot(page, 'phone-editor');
  await context.close();
});

test('live: a change in one context appears in another', async ({ browser }) => {
  const a = await browser.newContext();
  const pageA = await a.newPage();
  await signUp(pageA);
  const session = await pageA.evaluate(() => localStorage.getItem('todo.session'));
  const b = await browser.newContext();
  const pageB = await b.newPage();
  await pageB.goto('/login');
  await pageB.evaluate((s) => localStorage.setItem('todo.session', s!), session);
  await pageB.goto('/tasks');
  await expect(pageB.getByText('Live', { exact: true })).toBeVisible({ timeout: 10_000 });
  await pageA.getByRole('textbox', { name: 'New task' }).fill('Made in A');
  await pageA.getByRole('textbox', { name: 'New task' }).press('Enter');
  await expect(pageB.getByTestId('task').filter({ hasText: 'Made in A' })).toBeVisible();
  await a.close();
  await b.close();
});
