// Drives Debian's headless Chromium (never a downloaded browser) through playwright-core:
// opens a parent page that frames a Liaison page and reports, as one JSON line, whether the
// frame rendered and what it shows. With --open, clicks "Open in suite" inside the frame (a form
// that posts the session into a new window) and reports where the popup landed.
// Usage: node embed-check.mjs <parent_url> [--open]
import { chromium } from 'playwright-core';

const [parentUrl, mode] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
         '--no-first-run', '--disable-background-networking', '--disable-component-update',
         '--disable-sync'],
});
const result = { rendered: false, heading: null, text: null, popup: null, blocked: [] };
try {
  // LIAISON_VIEWPORT=320 and LIAISON_SCREENSHOT=file.png let a person look at the result.
  const width = Number(process.env.LIAISON_VIEWPORT || 1280);
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/frame-ancestors|Refused to display|Content Security Policy/i.test(message.text())) {
      result.blocked.push(message.text());
    }
  });
  await page.goto(parentUrl, { waitUntil: 'load' });
  const handle = await page.waitForSelector('iframe', { timeout: 5000 });
  const frame = await handle.contentFrame();
  try {
    await frame.waitForSelector('h1', { timeout: 4000 });
    result.heading = (await frame.textContent('h1')).trim();
    result.text = await frame.evaluate(() => document.body.innerText);
    result.rendered = true;
  } catch (_) {
    result.rendered = false;
  }
  if (process.env.LIAISON_SCREENSHOT) {
    await page.screenshot({ path: process.env.LIAISON_SCREENSHOT, fullPage: true });
  }
  if (mode === '--open' && result.rendered) {
    const [popup] = await Promise.all([
      context.waitForEvent('page', { timeout: 10000 }),
      frame.click('form.open-in-suite button'),
    ]);
    // The popup passes through Liaison's /open/... on its way to the suite.
    await popup.waitForURL((url) => !url.pathname.startsWith('/open/'), { timeout: 10000 });
    await popup.waitForLoadState('load');
    result.popup = popup.url();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
