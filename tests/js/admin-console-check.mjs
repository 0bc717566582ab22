// Drives Debian's headless Chromium (never a downloaded browser) through playwright-core as an
// administrator would: opens the console's sign-in page at each base URL given (in a fresh
// browser context each), types the admin token, presses "Sign in", and reports what is shown.
// At the first base it then opens each console page given (and the mappings preview), signs
// out, and presses the back button. Reports one JSON line.
// With LIAISON_SCREENSHOTS=<dir>, writes a screenshot of each page there; LIAISON_SAMPLE is the
// payload typed into the mappings preview.
// Usage: node admin-console-check.mjs <token> <base_url>[,<base_url>...] [<path> ...]
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

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

const result = { signIns: [], pages: [], preview: null, signedOut: null, back: null, error: null };
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
      if (/\/mappings$/.test(path)) {
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
