// Drives Debian's headless Chromium (never a downloaded browser) through playwright-core as an
// administrator would: opens the console's sign-in page at each base URL given (in a fresh
// browser context each), types the admin token, presses "Sign in", and reports what is shown.
// At the first base it then opens each console page given (and the mappings preview), signs
// out, and presses the back button. Reports one JSON line.
// With LIAISON_SCREENSHOTS=<dir>, writes a screenshot of each page there; LIAISON_SAMPLE is the
// payload typed into the mappings preview. With LIAISON_REPLAY_EVENT=<event id>, before signing
// out it presses "Replay this event" on that event's page and then the queue page's "Replay N
// dead letters", reports what the progress page shows, prints `STEP replay-started` and waits
// for a line on stdin (the test plays the worker meanwhile), then waits for the progress page to
// refresh itself to "Finished" and reads the event's status again.
// Usage: node admin-console-check.mjs <token> <base_url>[,<base_url>...] [<path> ...]
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const replayEvent = process.env.LIAISON_REPLAY_EVENT || '';

const [token, bases, ...paths] = process.argv.slice(2);
const shots = process.env.LIAISON_SCREENSHOTS || '';
if (shots) mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
         '--no-first-run', '--disable-background-networking', '--disable-component-update',
         '--disable-sync'],
});

async function shot(page, name) {
  if (shots) await page.screenshot({ path: `${shots}/admin-${name}.png`, fullPage: true });
}

// What a page shows: the console (its bar with the "Sign out" form) or the sign-in form.
async function looksAt(page) {
  return {
    url: page.url(),
    console: (await page.locator('header.admin-bar').count()) > 0,
    signInForm: (await page.locator('form[action="/admin/login"]').count()) > 0,
    heading: ((await page.locator('h1').first().textContent().catch(() => '')) || '').trim(),
  };
}

// The event page's status, its notice, and its jobs' statuses (read at once: an absent notice
// is empty, not waited for).
async function eventShows(page) {
  return page.evaluate(() => ({
    status: (document.querySelector('dl.pairs dd[class^="status-"]')?.textContent || '').trim(),
    notice: (document.querySelector('p.notice[role=status]')?.textContent || '').trim(),
    jobs: [...document.querySelectorAll('section.card h3 span[class^="status-"]')].map((s) => s.textContent.trim()),
  }));
}

// What the bulk replay's progress page shows.
async function progressShows(page) {
  return {
    url: page.url(),
    heading: ((await page.locator('h1').first().textContent()) || '').trim(),
    status: ((await page.locator('p[role=status]').textContent()) || '').trim(),
    progress: await page.getByRole('progressbar', { name: 'Jobs of this replay finished' }).getAttribute('value'),
    refreshes: (await page.locator('meta[http-equiv="refresh"]').count()) > 0,
  };
}

// Presses "Replay this event", then "Replay N dead letters" on the queue page, and follows the
// bulk replay until its page says it is finished.
async function replay(page, base) {
  const out = { before: null, event: null, button: null, started: null, finished: null, after: null };
  await page.goto(`${base}/admin/events/${replayEvent}`, { waitUntil: 'load' });
  out.before = await eventShows(page);
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.getByRole('button', { name: 'Replay this event' }).click(),
  ]);
  await shot(page, 'event-replayed');
  out.event = { url: page.url(), ...(await eventShows(page)) };

  await page.goto(`${base}/admin/queue`, { waitUntil: 'load' });
  const button = page.getByRole('button', { name: /^Replay \d+ dead letters$/ });
  out.button = ((await button.textContent()) || '').trim();
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  await shot(page, 'replay-in-progress');
  out.started = await progressShows(page);

  console.log('STEP replay-started');
  await stdinLines.next();
  // The page refreshes itself every 2 s while the replay runs.
  await page.locator('p[role=status]', { hasText: /^Finished/ }).waitFor({ timeout: 15000 });
  await shot(page, 'replay-finished');
  out.finished = await progressShows(page);

  await page.goto(`${base}/admin/events/${replayEvent}`, { waitUntil: 'load' });
  out.after = await eventShows(page);
  return out;
}

const result = {
  signIns: [], pages: [], preview: null, replay: null, signedOut: null, back: null, error: null,
};
try {
  const baseList = bases.split(',');
  for (const [index, base] of baseList.entries()) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    let loginPost = null;
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/admin/login')) {
        loginPost = { origin: request.headers()['origin'] || null };
      }
    });
    page.on('response', (response) => {
      if (response.request().method() === 'POST' && response.url().endsWith('/admin/login')) {
        loginPost = { ...loginPost, status: response.status() };
      }
    });
    await page.goto(`${base}/admin/login`, { waitUntil: 'load' });
    if (index === 0) await shot(page, 'login');
    await page.fill('#token', token);
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    const signedIn = { base, post: loginPost, ...(await looksAt(page)) };
    result.signIns.push(signedIn);

    // The tour needs a console to tour.
    if (index !== 0 || !signedIn.console) {
      await context.close();
      continue;
    }
    for (const path of paths) {
      const response = await page.goto(`${base}${path}`, { waitUntil: 'load' });
      const name = path.replace(/^\/admin\/?/, '').replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '') || 'tenants';
      await shot(page, name);
      result.pages.push({ path, status: response.status(), ...(await looksAt(page)) });
      // A script tenant's console: its last runs are shown, and "Preview" runs its `catch`.
      const scriptTenant = process.env.LIAISON_SCRIPT_TENANT || '';
      if (scriptTenant && path === `/admin/tenants/${scriptTenant}/mappings`) {
        const runs = await page.locator('h3:has-text("Last runs") + table tbody tr').count();
        await page.fill('#sample', process.env.LIAISON_SCRIPT_SAMPLE || '');
        await Promise.all([
          page.waitForNavigation({ waitUntil: 'load' }),
          page.getByRole('button', { name: 'Preview' }).click(),
        ]);
        await shot(page, 'script-try-it');
        const wouldBecome = page.locator('pre.json').last();
        result.scriptPreview = {
          ...(await looksAt(page)),
          runs,
          heading: await page.locator('h2:has-text("Try the script")').count(),
          events: (await wouldBecome.count()) > 0 ? await wouldBecome.innerText() : '',
        };
      } else if (/\/mappings$/.test(path)) {
        await page.fill('#sample', process.env.LIAISON_SAMPLE || '');
        await Promise.all([
          page.waitForNavigation({ waitUntil: 'load' }),
          page.getByRole('button', { name: 'Preview' }).click(),
        ]);
        await shot(page, 'mappings-preview');
        result.preview = {
          ...(await looksAt(page)),
          wouldBecome: (await page.locator('pre.json').count()) > 0,
        };
      }
    }
    if (replayEvent) result.replay = await replay(page, base);
    await page.goto(`${base}/admin`, { waitUntil: 'load' });
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    result.signedOut = await looksAt(page);
    await page.goBack({ waitUntil: 'load' });
    await shot(page, 'after-sign-out-back');
    result.back = await looksAt(page);
    await context.close();
  }
} catch (error) {
  result.error = String(error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(0);
