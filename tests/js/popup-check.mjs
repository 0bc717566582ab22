// Drives Debian's headless Chromium (never a downloaded browser) through playwright-core as a
// person whose launch link has expired: opens an ATS stand-in page that frames a Liaison page,
// reports the frame's "Sign in" page, presses "Sign in" (a popup), types the login into the
// identity provider's own form (oidc-provider's dev interactions) and consents, sees the popup
// tell the frame (`postMessage`) and close, reports the frame reloaded with its new session,
// presses "Open in suite" (a POST form into a new window) and reports where that window lands.
// Reports one JSON line. With LIAISON_SCREENSHOTS=<dir>, writes a screenshot of each step there.
// Usage: node popup-check.mjs <parent_url> <locale> <idp_login>
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [parentUrl, locale, login] = process.argv.slice(2);
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
  if (shots) await page.screenshot({ path: `${shots}/popup-${name}.png`, fullPage: true });
}

// What the Liaison frame shows now (read at once: absent parts are empty, not waited for).
async function frameShows(frame) {
  await frame.waitForSelector('h1', { timeout: 10000 });
  return frame.evaluate(() => {
    const text = (selector) => (document.querySelector(selector)?.textContent || '').trim();
    return {
      url: window.location.href,
      lang: document.documentElement.lang,
      heading: text('h1'),
      code: document.querySelector('[data-code]')?.getAttribute('data-code') || null,
      signInButton: text('a[data-liaison-popup]'),
      questions: [...document.querySelectorAll('ol.questions .question-text')].map((q) => q.textContent.trim()),
      openInSuite: text('form.open-in-suite button'),
    };
  });
}

const started = Date.now();
const timings = {};
const mark = (step) => { timings[step] = Date.now() - started; };
const result = {
  timings,
  signIn: null, idp: [], messages: [], frameUrls: [], popupClosed: false, signedIn: null,
  suite: null, error: null,
};
try {
  const context = await browser.newContext({ locale, viewport: { width: 1100, height: 900 } });
  // Every frame of every page reports the messages it receives (the frame reloads, so they are
  // read from the console rather than kept in the page).
  await context.addInitScript(() => {
    window.addEventListener('message', (event) => {
      const data = event.data || {};
      console.log(`liaison-message ${JSON.stringify({
        at: window.location.pathname, origin: event.origin, type: data.type,
        handoff: typeof data.handoff === 'string' && data.handoff.length > 0,
      })}`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('console', (message) => {
    const line = message.text();
    if (line.startsWith('liaison-message ')) result.messages.push(JSON.parse(line.slice(16)));
  });
  page.on('framenavigated', (frame) => {
    if (frame !== page.mainFrame()) result.frameUrls.push(frame.url());
  });
  await page.goto(parentUrl, { waitUntil: 'load' });
  const handle = await page.waitForSelector('iframe');
  const frame = await handle.contentFrame();
  result.signIn = await frameShows(frame);
  mark('signIn');
  await shot(page, '1-sign-in');

  // "Sign in" opens the identity provider in a popup (it refuses to be framed).
  const [popup] = await Promise.all([
    context.waitForEvent('page'),
    frame.click('a[data-liaison-popup]'),
  ]);
  popup.setDefaultTimeout(10000);
  const closed = popup.waitForEvent('close', { timeout: 20000 }).then(() => { result.popupClosed = true; });
  await popup.waitForSelector('input[name="login"]');
  mark('idpLogin');
  result.idp.push({ step: 'login', url: popup.url(), heading: await popup.locator('h1').first().textContent() });
  await shot(popup, '2-idp-login');
  await popup.fill('input[name="login"]', login);
  await popup.fill('input[name="password"]', 'any password');
  await Promise.all([popup.waitForNavigation(), popup.click('button[type="submit"]')]);
  // The provider asks for consent once.
  if (!popup.isClosed() && (await popup.locator('input[name="prompt"][value="consent"]').count()) > 0) {
    result.idp.push({ step: 'consent', url: popup.url(), heading: await popup.locator('h1').first().textContent() });
    await shot(popup, '3-idp-consent');
    await popup.click('button[type="submit"]');
  }
  // Back at Liaison the popup hands the session to the frame and closes itself.
  await closed;
  mark('popupClosed');

  const reloaded = await (await page.waitForSelector('iframe')).contentFrame();
  await reloaded.waitForSelector('form.open-in-suite', { timeout: 10000 });
  result.signedIn = await frameShows(reloaded);
  mark('signedIn');
  await shot(page, '4-signed-in');

  // "Open in suite": a form posted into a new window, which moves on to the suite.
  const [suite] = await Promise.all([
    context.waitForEvent('page'),
    reloaded.click('form.open-in-suite button'),
  ]);
  await suite.waitForURL((url) => !url.pathname.startsWith('/open/'), { timeout: 10000 });
  await suite.waitForLoadState('load');
  mark('suite');
  await shot(suite, '5-suite');
  result.suite = { url: suite.url(), text: await suite.locator('body').innerText() };
  await context.close();
} catch (error) {
  result.error = String(error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
