// Drives Debian's headless Chromium (never a downloaded browser) through playwright-core as a
// recruiter would: opens the simulated ATS's requisition page (Gupy simulator,
// `/_sim/requisitions/{id}`) once per locale given, each in its own browser context (Chromium then
// sends that `Accept-Language`), and reports, as one JSON line, what each Liaison iframe on it
// shows: the job frame (heading, questions in order, invitation counts) and each application's.
// In the first locale it then presses the ATS page's own "Open in suite" (a link that opens
// Liaison's popup route in a named window) and reports where that window lands.
// With LIAISON_SCREENSHOTS=<dir>, writes the whole page and each frame there.
// Usage: node requisition-check.mjs <requisition_url> <locale>[,<locale>...]
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [url, locales] = process.argv.slice(2);
const shots = process.env.LIAISON_SCREENSHOTS || '';
if (shots) mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
         '--no-first-run', '--disable-background-networking', '--disable-component-update',
         '--disable-sync'],
});


// What one Liaison frame shows, once its heading is there (read at once: absent parts are
// empty, not waited for).
async function frameShows(handle) {
  const frame = await handle.contentFrame();
  await frame.waitForSelector('h1', { timeout: 10000 });
  const shows = await frame.evaluate(() => {
    const text = (selector) => (document.querySelector(selector)?.textContent || '').trim();
    const all = (selector) => [...document.querySelectorAll(selector)].map((e) => e.textContent.trim());
    return {
      url: window.location.href,
      lang: document.documentElement.lang,
      heading: text('h1'),
      sections: all('h2'),
      questions: all('ol.questions .question-text'),
      counts: [...document.querySelectorAll('dl.counts > div')].map((d) => ({
        label: d.querySelector('dt').textContent.trim(),
        value: Number(d.querySelector('dd').textContent.trim()),
      })),
      status: text('p.status'),
      openInSuite: document.querySelector('form.open-in-suite button') !== null,
      text: document.body.innerText,
    };
  });
  return { title: await handle.getAttribute('title'), ...shows };
}

const result = { views: [], error: null };
try {
  for (const locale of locales.split(',')) {
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10000);
    await page.goto(url, { waitUntil: 'load' });
    const view = {
      locale,
      heading: ((await page.locator('h1').first().textContent()) || '').trim(),
      candidates: (await page.locator('article h3').allTextContents()).map((t) => t.trim()),
      job: await frameShows(await page.waitForSelector('iframe.job-frame')),
      applications: [],
    };
    for (const handle of await page.$$('iframe.app-frame')) {
      view.applications.push(await frameShows(handle));
    }
    if (shots) {
      await page.screenshot({ path: `${shots}/embed-requisition-${locale}.png`, fullPage: true });
      await (await page.$('iframe.job-frame')).screenshot({ path: `${shots}/embed-job-${locale}.png` });
      for (const [n, handle] of (await page.$$('iframe.app-frame')).entries()) {
        await handle.screenshot({ path: `${shots}/embed-application-${n + 1}-${locale}.png` });
      }
    }
    if (result.views.length === 0) {
      const [popup] = await Promise.all([
        context.waitForEvent('page'),
        page.getByRole('link', { name: 'Open in suite' }).click(),
      ]);
      await popup.waitForURL((u) => !u.pathname.startsWith('/open/'), { timeout: 10000 });
      await popup.waitForLoadState('load');
      if (shots) await popup.screenshot({ path: `${shots}/embed-open-in-suite-${locale}.png` });
      view.openInSuite = { url: popup.url(), text: await popup.locator('body').innerText() };
    }
    result.views.push(view);
    await context.close();
  }
} catch (error) {
  result.error = String(error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
