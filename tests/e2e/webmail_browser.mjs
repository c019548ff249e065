// The webmail in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core from web/node_modules; no browser download), run by
// tests/e2e/test_webmail.py against a real tern instance:
//
//   node tests/e2e/webmail_browser.mjs CONFIG.json
//
// CONFIG: {url, a: {user, pass}, b: {user, pass}, shots: DIR,
//          plain: {subject, text, attachment: {name, content}},
//          evil: {subject}, forbiddenHost: "127.0.0.1:PORT",
//          replyText, folder, searchWord}
// Each step prints one line "step: NAME"; a failed check throws, prints
// "FAILED: ..." and exits 1. The final line is "RESULT {json}".
import { createRequire } from "node:module";
import { readFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "web", "package.json"));
const { chromium } = require("playwright-core");

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
mkdirSync(cfg.shots, { recursive: true });
const WAIT = 15000; // bounded waits for anything the page does
const origin = new URL(cfg.url).origin;
const requests = [];
const result = { steps: [], requests, pageErrors: [], dialogs: [] };

function step(name) {
  result.steps.push(name);
  console.log("step: " + name);
}

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(cfg.shots, name + ".png") });
}

async function login(page, who) {
  await page.goto(cfg.url);
  await page.waitForSelector("#login-user", { timeout: WAIT });
  await page.fill("#login-user", who.user);
  await page.fill("#login-pass", who.pass);
  await page.click(".login button[type=submit]");
  await page.waitForSelector(".folder[data-role=inbox][aria-current=page]", { timeout: WAIT });
}

async function logout(page) {
  await page.click("#logout-btn");
  await page.waitForSelector("#login-user", { timeout: WAIT });
  // The session is dead on the server, not only forgotten by the page.
  const st = await page.evaluate(async () => (await fetch("/api/session", { credentials: "same-origin" })).status);
  check(st === 401, `GET /api/session after logout gives 401 (got ${st})`);
}

function row(page, subject) {
  return page.locator(".row[data-id]", { has: page.locator(".subject", { hasText: subject }) });
}

async function openFolder(page, roleOrName) {
  const sel = page.locator(`.folder[data-role="${roleOrName}"]`);
  if (await sel.count()) await sel.click();
  else await page.locator(".folder", { has: page.locator(".fname", { hasText: new RegExp("^" + roleOrName + "$") }) }).click();
  await page.waitForSelector(".folder[aria-current=page]", { timeout: WAIT });
}

const browser = await chromium.launch({
  executablePath: cfg.chromium || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
let page;
try {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    colorScheme: "light",
  });
  page = await context.newPage();
  const pending = new Set();
  result.pending = pending;
  context.on("request", (r) => {
    requests.push(r.url());
    pending.add(r);
  });
  context.on("requestfinished", (r) => pending.delete(r));
  context.on("requestfailed", (r) => pending.delete(r));
  page.on("pageerror", (e) => result.pageErrors.push(String(e)));
  page.on("dialog", (d) => {
    result.dialogs.push(d.message());
    d.dismiss();
  });

  step("login");
  await login(page, cfg.a);
  await shot(page, "login-inbox");

  step("see the delivered message");
  await row(page, cfg.plain.subject).waitFor({ timeout: WAIT });
  await row(page, cfg.evil.subject).waitFor({ timeout: WAIT });
  const unread = await page.locator(".folder[data-role=inbox] .count").textContent();
  check(Number(unread) >= 2, `inbox shows its unread count (${unread})`);
  await shot(page, "inbox");

  step("open it");
  await row(page, cfg.plain.subject).click();
  await page.waitForSelector("#msg-subject", { timeout: WAIT });
  check((await page.textContent("#msg-subject")) === cfg.plain.subject, "subject in the reading pane");
  await page.waitForSelector("#msg-text", { timeout: WAIT });
  const body = await page.textContent("#msg-text");
  check(body.includes(cfg.plain.text), "the text body is shown");
  await shot(page, "reading");

  step("open the attachment");
  const link = page.locator("a.attachment", { hasText: cfg.plain.attachment.name });
  await link.waitFor({ timeout: WAIT });
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: WAIT }), link.click()]);
  const saved = readFileSync(await download.path(), "utf8");
  check(saved === cfg.plain.attachment.content, `the attachment's bytes (got ${JSON.stringify(saved.slice(0, 80))})`);
  check(download.suggestedFilename() === cfg.plain.attachment.name, "the attachment's name");
  // Read state reached the server: the row is no longer bold after changes.
  await page.waitForSelector(`.row[data-id]:not(.unseen) .subject:has-text("${cfg.plain.subject}")`, { timeout: WAIT });

  step("reply");
  await page.click("#reply-btn");
  await page.waitForSelector("#compose", { timeout: WAIT });
  check((await page.inputValue("#c-subject")) === "Re: " + cfg.plain.subject, "reply subject");
  check((await page.inputValue("#c-to")).includes(cfg.b.address), "reply goes to the sender");
  await page.locator("#c-body").press("Control+Home");
  await page.locator("#c-body").type(cfg.replyText);
  await shot(page, "compose");
  await page.click("#c-send");
  await page.waitForSelector("#status:has-text('Message sent.')", { timeout: WAIT });
  await openFolder(page, "sent");
  await row(page, "Re: " + cfg.plain.subject).waitFor({ timeout: WAIT });
  await shot(page, "sent");
  await openFolder(page, "drafts");
  await page.waitForSelector(".empty", { timeout: WAIT });
  await openFolder(page, "inbox");

  step("new mail appears by push");
  // A message to herself: it arrives in the inbox after the send has been
  // answered, through the queue and local delivery, so only a push event
  // (EventSource) can bring it into the open list.
  await page.keyboard.press("c");
  await page.waitForSelector("#compose", { timeout: WAIT });
  await page.fill("#c-to", cfg.a.address);
  await page.fill("#c-subject", cfg.selfSubject);
  await page.fill("#c-body", "pushed");
  await page.click("#c-send");
  await page.waitForSelector("#status:has-text('Message sent.')", { timeout: WAIT });
  await row(page, cfg.selfSubject).waitFor({ timeout: WAIT });

  step("search");
  await page.keyboard.press("/");
  check(await page.evaluate(() => document.activeElement.id === "search"), "/ focuses the search box");
  await page.keyboard.type(cfg.searchWord);
  await page.keyboard.press("Enter");
  await page.waitForSelector(`#list-title:has-text("${cfg.searchWord}")`, { timeout: WAIT });
  await row(page, cfg.plain.subject).waitFor({ timeout: WAIT });
  await page.waitForFunction(() => document.querySelectorAll(".row[data-id]").length === 1, null, { timeout: WAIT });
  check((await row(page, cfg.evil.subject).count()) === 0, "search leaves out the other message");
  // SearchSnippet/get: the matched term is marked in the row's subject and
  // preview, the rest of the text shown as text.
  await page.waitForSelector(".row[data-id] .preview mark", { timeout: WAIT });
  const marks = await row(page, cfg.plain.subject).evaluate((r) => ({
    subject: [...r.querySelectorAll(".subject mark")].map((m) => m.textContent),
    preview: [...r.querySelectorAll(".preview mark")].map((m) => m.textContent),
    previewText: r.querySelector(".preview").textContent,
  }));
  const word = cfg.searchWord.toLowerCase();
  check(marks.subject.length === 1 && marks.subject[0].toLowerCase() === word, `subject marks ${JSON.stringify(marks.subject)}`);
  check(marks.preview.length >= 1 && marks.preview.every((m) => m.toLowerCase() === word), `preview marks ${JSON.stringify(marks.preview)}`);
  check(marks.previewText.includes(cfg.plain.text), `preview text ${JSON.stringify(marks.previewText)}`);
  await shot(page, "search");
  await page.fill("#search", "");
  await page.press("#search", "Enter");
  await row(page, cfg.evil.subject).waitFor({ timeout: WAIT });

  step("hostile HTML message");
  await row(page, cfg.evil.subject).click();
  const frame = page.locator("#msg-frame");
  await frame.waitFor({ timeout: WAIT });
  check((await frame.getAttribute("sandbox")).split(/\s+/).indexOf("allow-scripts") < 0, "the frame has no allow-scripts");
  const fl = page.frameLocator("#msg-frame");
  await fl.locator("text=" + cfg.evil.visibleText).waitFor({ timeout: WAIT });
  await page.waitForSelector("#remote-notice", { timeout: WAIT });
  // The javascript: link: clicked, nothing may run.
  const jsLink = fl.locator("a", { hasText: cfg.evil.linkText });
  if (await jsLink.count()) {
    const href = await jsLink.getAttribute("href");
    check(!href || !/^\s*javascript:/i.test(href), `javascript: link kept (${href})`);
    await jsLink.click({ timeout: WAIT, noWaitAfter: true }).catch(() => {});
  }
  await page.evaluate(() => new Promise((r) => setTimeout(r, 1000)));
  result.flags = await page.evaluate(() => ({ top: window.ternPwned || null, cookie: document.title }));
  check(!result.flags.top, "no script of the message ran in the page");
  result.frameScript = await page.frames().find((f) => f !== page.mainFrame()).evaluate(() => window.ternPwned || null).catch((e) => "no-eval: " + e.message.split("\n")[0]);
  await shot(page, "html-message");

  step("remote images only after the click");
  await row(page, cfg.pictures.subject).click();
  await page.waitForSelector(`#msg-subject:has-text("${cfg.pictures.subject}")`, { timeout: WAIT });
  const pic = page.frameLocator("#msg-frame").locator("#picture");
  await pic.waitFor({ state: "attached", timeout: WAIT });
  await page.waitForSelector("#remote-notice", { timeout: WAIT });
  // The mail's own inline style applies (the frame has its own CSP).
  result.pictureStyle = await page.frameLocator("#msg-frame").locator("#styled").evaluate((el) => getComputedStyle(el).color);
  await page.evaluate(() => new Promise((r) => setTimeout(r, 1000)));
  result.pictureBeforeClick = requests.filter((u) => u === cfg.pictures.url);
  check(result.pictureBeforeClick.length === 0, "the remote picture is not fetched before the click");
  check((await pic.evaluate((img) => img.naturalWidth)) === 0, "the picture is not shown before the click");
  await shot(page, "pictures-blocked");
  await Promise.all([page.waitForRequest(cfg.pictures.url, { timeout: WAIT }), page.click("#show-images")]);
  await page.waitForSelector("#remote-notice", { state: "detached", timeout: WAIT });
  const shown = page.frameLocator("#msg-frame").locator("#picture");
  let width = 0;
  for (const end = Date.now() + WAIT; Date.now() < end && !width; ) {
    width = await shown.evaluate((img) => (img.complete ? img.naturalWidth : 0), null, { timeout: WAIT }).catch(() => 0);
    if (!width) await page.waitForTimeout(100);
  }
  check(width > 0, "the picture is shown after the click");
  await shot(page, "pictures-shown");

  step("move to a folder");
  if (!(await page.locator(".folder .fname", { hasText: new RegExp("^" + cfg.folder + "$") }).count())) {
    await page.fill("#new-folder", cfg.folder);
    await page.click("#new-folder-btn");
    await page.locator(".folder .fname", { hasText: new RegExp("^" + cfg.folder + "$") }).waitFor({ timeout: WAIT });
  }
  await row(page, cfg.plain.subject).click();
  await page.waitForSelector(`#msg-subject:has-text("${cfg.plain.subject}")`, { timeout: WAIT });
  const opt = await page.locator("#move-to option", { hasText: cfg.folder }).getAttribute("value");
  await page.selectOption("#move-to", opt);
  await row(page, cfg.plain.subject).waitFor({ state: "detached", timeout: WAIT });
  await openFolder(page, cfg.folder);
  await row(page, cfg.plain.subject).waitFor({ timeout: WAIT });
  await openFolder(page, "inbox");

  step("mark as spam");
  await row(page, cfg.evil.subject).click();
  await page.waitForSelector(`#msg-subject:has-text("${cfg.evil.subject}")`, { timeout: WAIT });
  await page.locator("#reader").focus();
  await page.keyboard.press("!");
  await row(page, cfg.evil.subject).waitFor({ state: "detached", timeout: WAIT });
  await openFolder(page, "junk");
  await row(page, cfg.evil.subject).waitFor({ timeout: WAIT });

  step("settings");
  await page.click("#settings-btn");
  await page.waitForSelector(`#identities:has-text("${cfg.a.address}")`, { timeout: WAIT });
  await page.waitForSelector("#v-enabled", { timeout: WAIT });
  // The vacation reply (a Sieve script on the server, see test_webmail.py).
  await page.check("#v-enabled");
  await page.fill("#v-subject", cfg.vacationSubject);
  await page.fill("#v-text", "Back next week.");
  await page.click("form.vacation button[type=submit]");
  await page.waitForSelector("#v-status:has-text('Saved.')", { timeout: WAIT });
  await shot(page, "settings");

  step("phone layout");
  await openFolder(page, "inbox");
  await page.setViewportSize({ width: 390, height: 760 });
  check(await page.locator(".listpane").isVisible(), "the list is shown on a phone");
  check(!(await page.locator(".folderpane").isVisible()), "one column on a phone");
  await shot(page, "phone");
  await page.setViewportSize({ width: 1280, height: 800 });

  step("log out");
  await logout(page);

  step("the reply arrived for the other user");
  await login(page, cfg.b);
  await row(page, "Re: " + cfg.plain.subject).waitFor({ timeout: WAIT });
  await row(page, "Re: " + cfg.plain.subject).click();
  await page.waitForSelector("#msg-text", { timeout: WAIT });
  check((await page.textContent("#msg-text")).includes(cfg.replyText), "the reply's text");
  await shot(page, "other-inbox");
  await logout(page);

  result.ok = true;
} catch (e) {
  result.ok = false;
  result.error = e.message;
  console.log("FAILED: " + e.message);
  if (page) {
    await shot(page, "failure").catch(() => {});
    // Requests still unanswered (the event stream stays open by design).
    result.unanswered = [...result.pending].map((r) => r.method() + " " + r.url()).filter((u) => !u.includes("/eventsource"));
    result.at = await page.evaluate(() => ({ hash: location.hash, status: document.getElementById("status")?.textContent, reader: document.getElementById("reader")?.textContent.slice(0, 200) })).catch(() => null);
  }
} finally {
  await browser.close();
}
delete result.pending;
// Off the origin: only the picture the user asked for may appear here.
const forbidden = requests.filter((u) => !u.startsWith(origin + "/") && !u.startsWith("data:") && !u.startsWith("blob:") && !u.startsWith("about:"));
result.foreign = forbidden;
console.log("RESULT " + JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
