// The webmail's first meaningful paint in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core from web/node_modules, as
// tests/e2e/webmail_browser.mjs does), run by tests/bench/jmap_bench.py:
//
//   node tests/bench/webmail_paint.mjs CONFIG.json
//
// CONFIG: {url, user, pass, reps}
// It logs in once through the login form, keeps the session cookie, and
// then loads the page reps times, each in a fresh browser context (an
// empty cache: HTML, JS and CSS fetched again) holding that cookie.  Per
// load: the time from navigation start to the client's mark
// "tern-first-rows" (set in the frame that shows the first message rows
// of the inbox, web/src/main.js renderRows), and the first contentful
// paint for comparison; and the login's time from its click to the first
// rows.  The last line is "RESULT {json}".
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "web", "package.json"));
const { chromium } = require("playwright-core");

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const WAIT = 60000; // bounded: a 100,000-message inbox on a loaded machine
const MARK = "tern-first-rows";
const result = { loads: [], pageErrors: [] };

async function firstRows(page) {
  await page.waitForFunction((m) => performance.getEntriesByName(m).length > 0, MARK, { timeout: WAIT });
  return page.evaluate((m) => {
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    return {
      rows_ms: performance.getEntriesByName(m)[0].startTime,
      fcp_ms: fcp ? fcp.startTime : null,
      rows: document.querySelectorAll(".row[data-id]").length,
    };
  }, MARK);
}

const browser = await chromium.launch({
  executablePath: cfg.chromium || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
const opts = { viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true, colorScheme: "light" };
try {
  const context = await browser.newContext(opts);
  const page = await context.newPage();
  page.on("pageerror", (e) => result.pageErrors.push(String(e)));
  await page.goto(cfg.url);
  await page.waitForSelector("#login-user", { timeout: WAIT });
  await page.fill("#login-user", cfg.user);
  await page.fill("#login-pass", cfg.pass);
  const t0 = Date.now();
  await page.click(".login button[type=submit]");
  await page.waitForSelector(".row[data-id]", { timeout: WAIT });
  result.login_ms = Date.now() - t0; // the jmap process's first look when nothing ran before
  const cookies = await context.cookies();
  await context.close();
  for (let i = 0; i < cfg.reps; i++) {
    const ctx = await browser.newContext(opts);
    await ctx.addCookies(cookies);
    const p = await ctx.newPage();
    p.on("pageerror", (e) => result.pageErrors.push(String(e)));
    await p.goto(cfg.url);
    const r = await firstRows(p);
    if (r.rows === 0) throw new Error("the mark came without message rows");
    result.loads.push(r);
    await ctx.close();
  }
} catch (e) {
  console.log("FAILED: " + e.message);
  process.exitCode = 1;
} finally {
  await browser.close();
}
console.log("RESULT " + JSON.stringify(result));
