// Issue 13's targets, measured (never asserted: tests do not judge wall-clock speed), so not part
// of the e2e suite: `make web-bench`, or `TODO_BIN=… npx playwright test --config
// playwright.bench.config.ts`. Prints the figures and writes them to e2e/artifacts/targets.json.
import { test, expect, type Browser } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { ARTIFACTS, signUp } from '../e2e/helpers';

test.setTimeout(180_000);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function sessionOf(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signUp(page);
  const session = (await page.evaluate(() => localStorage.getItem('todo.session')))!;
  await context.close();
  return session;
}

async function contextWith(browser: Browser, session: string) {
  const context = await browser.newContext();
  await context.addInitScript((s) => {
    if (!localStorage.getItem('todo.session')) localStorage.setItem('todo.session', s);
  }, session);
  return context;
}

const figures: Record<string, unknown> = {};
test.afterAll(() => {
  if (Object.keys(figures).length === 0) return;
  writeFileSync(`${ARTIFACTS}/targets.json`, JSON.stringify(figures, null, 2));
  console.log(JSON.stringify(figures, null, 2));
});

test('first render of a list of 500 tasks', async ({ browser, baseURL }) => {
  const session = await sessionOf(browser);
  const token = (JSON.parse(session) as { access_token: string }).access_token;
  // Seed 500 tasks through the API, 8 at a time.
  const make = async (i: number) => {
    const res = await fetch(`${baseURL}/api/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ title: `Seeded task ${i} with a realistic title`, tags: [`t${i % 7}`], priority: (['low', 'medium', 'high'] as const)[i % 3], due_date: new Date(Date.now() + i * 3600_000).toISOString() }),
    });
    expect(res.status).toBe(201);
  };
  for (let i = 0; i < 500; i += 8) await Promise.all(Array.from({ length: Math.min(8, 500 - i) }, (_, k) => make(i + k)));

  const runs: Record<string, number>[] = [];
  for (let run = 0; run < 5; run++) {
    const context = await contextWith(browser, session);
    const page = await context.newPage();
    // Record (ms since navigation start) when the first row and the first 50 rows are in the DOM.
    await page.addInitScript(() => {
      const w = window as unknown as { __marks: Record<string, number> };
      w.__marks = {};
      new MutationObserver(() => {
        const n = document.querySelectorAll('[data-testid="task"]').length;
        if (n >= 1 && !w.__marks.first) w.__marks.first = performance.now();
        if (n >= 50 && !w.__marks.p50) w.__marks.p50 = performance.now();
        if (n >= 500 && !w.__marks.all) w.__marks.all = performance.now();
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto('/tasks?sort=due_date&order=asc');
    await expect(page.getByTestId('task')).toHaveCount(50);
    // Infinite scroll to the end: 10 pages of 50.
    while ((await page.getByTestId('task').count()) < 500) {
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.waitForTimeout(20);
    }
    const marks = await page.evaluate(() => (window as unknown as { __marks: Record<string, number> }).__marks);
    // Where the time went: the app's script, the first list request, DOMContentLoaded.
    const parts = await page.evaluate(() => {
      const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const first = (re: RegExp) => res.find((r) => re.test(r.name));
      const list = first(/\/api\/tasks\?/);
      const script = first(/\/assets\/.*\.js$/);
      return {
        scriptLoaded: Math.round(script?.responseEnd ?? -1),
        domContentLoaded: Math.round(nav.domContentLoadedEventEnd),
        listRequestStart: Math.round(list?.startTime ?? -1),
        listResponseEnd: Math.round(list?.responseEnd ?? -1),
      };
    });
    // The same page again in the same context: HTTP cache and V8's code cache are warm, as for a
    // returning user.
    await page.reload();
    await expect(page.getByTestId('task')).toHaveCount(50);
    const warm = await page.evaluate(() => (window as unknown as { __marks: Record<string, number> }).__marks.first!);
    runs.push({ firstRows: Math.round(marks.first!), page50: Math.round(marks.p50!), all500: Math.round(marks.all!), ...parts, warmReloadFirstRows: Math.round(warm) });
    await context.close();
  }
  figures.list500 = {
    what: 'ms from navigation start (performance.now) in headless Chromium; cold context each run; page size 50',
    runs,
    median_first_rows_ms: pct(runs.map((r) => r.firstRows!), 50),
    median_all_500_by_scrolling_ms: pct(runs.map((r) => r.all500!), 50),
    median_warm_reload_first_rows_ms: pct(runs.map((r) => r.warmReloadFirstRows!), 50),
  };
});

test('a change in another context: latency after its HTTP response', async ({ browser }) => {
  const session = await sessionOf(browser);
  const a = await contextWith(browser, session);
  const b = await contextWith(browser, session);
  const pageA = await a.newPage();
  const pageB = await b.newPage();
  await pageB.addInitScript(() => {
    const w = window as unknown as { __watch: string | null; __seen: number | null };
    w.__watch = null;
    w.__seen = null;
    new MutationObserver(() => {
      if (w.__watch && w.__seen === null && document.body.textContent?.includes(w.__watch)) w.__seen = Date.now();
    }).observe(document, { childList: true, subtree: true, characterData: true });
  });
  await pageA.goto('/tasks');
  await pageB.goto('/tasks');
  await expect(pageB.getByText('Live', { exact: true })).toBeVisible({ timeout: 10_000 });
  const samples: number[] = [];
  for (let i = 0; i < 30; i++) {
    const title = `Live ${i} ${Date.now()}`;
    await pageB.evaluate((t) => {
      const w = window as unknown as { __watch: string | null; __seen: number | null };
      w.__watch = t;
      w.__seen = null;
    }, title);
    const answered = await pageA.evaluate(async (t) => {
      const s = JSON.parse(localStorage.getItem('todo.session')!) as { access_token: string };
      const res = await fetch('/api/tasks', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.access_token}` },
        body: JSON.stringify({ title: t }),
      });
      await res.json();
      return Date.now();
    }, title);
    await pageB.waitForFunction(() => (window as unknown as { __seen: number | null }).__seen !== null);
    const seen = await pageB.evaluate(() => (window as unknown as { __seen: number }).__seen);
    samples.push(seen - answered);
  }
  figures.liveLatency = {
    what: 'ms from the end of the creating POST in context A to the title in the DOM of context B (same browser, same clock); 30 sequential changes',
    median_ms: pct(samples, 50),
    p95_ms: pct(samples, 95),
    max_ms: Math.max(...samples),
    samples,
  };
  await a.close();
  await b.close();
});
