// tern webmail: a single-page JMAP client. Views: login, the three panes
// (folders, virtualised message list, reading pane / composer), settings.
import { Client, HttpError } from "./jmap.js";
import { h, clear, fmtDate, fmtSize, addrText, addrShort, parseAddrs } from "./dom.js";
import { mailDocument, quote } from "./sanitize.js";

const PAGE = 50;
const ROW = 64;
const LIST_PROPS = ["id", "threadId", "mailboxIds", "keywords", "from", "to", "subject", "receivedAt", "preview", "hasAttachment", "size"];
const FULL_PROPS = [...LIST_PROPS, "cc", "bcc", "replyTo", "sentAt", "messageId", "inReplyTo", "references", "bodyValues", "textBody", "htmlBody", "attachments"];
const ROLE_ORDER = ["inbox", "drafts", "sent", "archive", "junk", "trash"];

const jmap = new Client();
const app = document.getElementById("app");
const S = {
  mailboxes: new Map(),
  mailboxState: null,
  emailState: null,
  current: null,
  search: "",
  threads: localStorage.getItem("tern.threads") !== "0",
  list: null,
  emails: new Map(),
  threadSize: new Map(),
  snippets: new Map(), // email id -> SearchSnippet of the active search
  cursor: -1,
  openId: null,
  identities: [],
  view: "list", // phone layout: folders | list | reader
  es: null,
  syncing: null,
  syncAgain: false,
};
const ui = {};

// ------------------------------------------------------------------ helpers
let statusTimer = null;
function status(text, isError = false) {
  if (!ui.status) return;
  ui.status.textContent = text || "";
  ui.status.classList.toggle("error", isError);
  clearTimeout(statusTimer);
  if (text && !text.endsWith("…")) statusTimer = setTimeout(() => (ui.status.textContent = ""), isError ? 10000 : 4000);
}

function fail(err) {
  console.error(err);
  status(err instanceof Error ? err.message : String(err), true);
}

function role(r) {
  for (const mb of S.mailboxes.values()) if (mb.role === r) return mb.id;
  return null;
}

function setView(v) {
  S.view = v;
  document.body.dataset.view = v;
}

function inputs(el) {
  return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
}

// ------------------------------------------------------------------ login
function showLogin(message) {
  if (S.es) S.es.close();
  S.es = null;
  document.body.dataset.view = "login";
  const err = h("p.error#login-error", { role: "alert" }, message || "");
  const user = h("input#login-user", { name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input#login-pass", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form.login",
    {
      "aria-labelledby": "login-title",
      onsubmit: async (ev) => {
        ev.preventDefault();
        err.textContent = "";
        form.querySelector("button").disabled = true;
        try {
          await jmap.login(user.value.trim(), pass.value);
          pass.value = "";
          await start();
        } catch (e) {
          err.textContent = e instanceof HttpError && e.status === 401 ? "Wrong user name or password." : e.message;
          form.querySelector("button").disabled = false;
          pass.focus();
        }
      },
    },
    h("h1#login-title", "tern webmail"),
    h("label", { for: "login-user" }, "User name"),
    user,
    h("label", { for: "login-pass" }, "Password"),
    pass,
    h("button", { type: "submit" }, "Log in"),
    err,
  );
  clear(app, h("main.login-page", form));
  user.focus();
}

jmap.onAuthLost = () => showLogin("Your session has ended; please log in again.");

// ------------------------------------------------------------------ shell
function buildShell() {
  ui.status = h("div.status#status", { role: "status" });
  ui.search = h("input#search", { type: "search", placeholder: "Search", "aria-label": "Search mail", "aria-keyshortcuts": "/" });
  ui.folders = h("ul.folders");
  ui.listTitle = h("h2#list-title");
  ui.spacer = h("div.spacer");
  ui.scroller = h("div.scroller#messages", { role: "listbox", tabindex: "0", "aria-labelledby": "list-title" }, ui.spacer);
  ui.reader = h("section.reader#reader", { "aria-label": "Message", tabindex: "-1" });
  const threadToggle = h("input#thread-toggle", { type: "checkbox", checked: S.threads });
  threadToggle.addEventListener("change", () => {
    S.threads = threadToggle.checked;
    localStorage.setItem("tern.threads", S.threads ? "1" : "0");
    resetList();
  });
  const header = h(
    "header.topbar",
    h("button.icon.phone-only#show-folders", { type: "button", "aria-label": "Folders", onclick: () => setView("folders") }, "☰"),
    h("span.brand", "tern"),
    h(
      "form.searchform",
      {
        role: "search",
        onsubmit: (ev) => {
          ev.preventDefault();
          S.search = ui.search.value.trim();
          resetList();
          ui.scroller.focus();
        },
      },
      ui.search,
    ),
    h("button#compose-btn", { type: "button", onclick: () => compose(), "aria-keyshortcuts": "c" }, "Compose"),
    h("a.button#settings-btn", { href: "#/settings" }, "Settings"),
    h("span.user#user", jmap.username),
    h("button#logout-btn", { type: "button", onclick: logout }, "Log out"),
  );
  const newName = h("input#new-folder", { name: "folder", placeholder: "New folder", "aria-label": "New folder name", required: true });
  const newFolder = h(
    "form.newfolder",
    {
      onsubmit: async (ev) => {
        ev.preventDefault();
        const name = newName.value.trim();
        if (!name) return;
        try {
          const r = await jmap.call("Mailbox/set", { create: { f: { name, parentId: null } } });
          if (r.notCreated?.f) throw new Error("folder not created: " + (r.notCreated.f.description || r.notCreated.f.type));
          newName.value = "";
          await sync();
          status(`Folder ${name} created.`);
        } catch (err) {
          fail(err);
        }
      },
    },
    newName,
    h("button#new-folder-btn", { type: "submit" }, "Add"),
  );
  const folders = h("nav.folderpane#folders", { "aria-label": "Folders" }, ui.folders, newFolder);
  const list = h(
    "section.listpane",
    { "aria-label": "Message list" },
    h("div.listhead", ui.listTitle, h("label.threads", threadToggle, " Threads")),
    ui.scroller,
  );
  clear(app, header, h("div.panes", folders, list, ui.reader), ui.status);
  ui.scroller.addEventListener("scroll", () => renderRows());
  ui.scroller.addEventListener("click", (ev) => {
    const row = ev.target.closest(".row");
    if (row) select(Number(row.dataset.index), true);
  });
  new ResizeObserver(() => renderRows()).observe(ui.scroller);
  emptyReader();
}

function emptyReader() {
  clear(ui.reader, h("p.placeholder", "Select a message to read it."));
}

async function logout() {
  try {
    await jmap.logout();
  } catch (e) {
    console.error(e);
  }
  S.mailboxes.clear();
  S.emails.clear();
  showLogin("You have logged out.");
}

// ------------------------------------------------------------------ folders
async function loadMailboxes() {
  const r = await jmap.call("Mailbox/get", { ids: null });
  S.mailboxes.clear();
  for (const mb of r.list) S.mailboxes.set(mb.id, mb);
  S.mailboxState = r.state;
}

function sortedMailboxes() {
  const all = [...S.mailboxes.values()];
  const key = (mb) => {
    const i = ROLE_ORDER.indexOf(mb.role);
    return [i < 0 ? ROLE_ORDER.length : i, mb.sortOrder || 0, mb.name.toLowerCase()];
  };
  const cmp = (a, b) => {
    const ka = key(a), kb = key(b);
    for (let i = 0; i < 3; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    return 0;
  };
  const out = [];
  const walk = (parent, depth) => {
    for (const mb of all.filter((m) => (m.parentId || null) === parent).sort(cmp)) {
      out.push([mb, depth]);
      walk(mb.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

function mailboxLabel(mb) {
  return mb.name;
}

function renderFolders() {
  clear(
    ui.folders,
    sortedMailboxes().map(([mb, depth]) => {
      const unread = mb.unreadEmails || 0;
      return h(
        "li",
        h(
          "a.folder",
          {
            href: `#/m/${encodeURIComponent(mb.id)}`,
            "data-role": mb.role || "",
            "data-id": mb.id,
            onclick: () => setView("list"),
            "aria-current": mb.id === S.current ? "page" : false,
            class: "folder depth" + Math.min(depth, 4) + (unread ? " unread" : ""),
          },
          h("span.fname", mailboxLabel(mb)),
          unread ? h("span.count", { "aria-label": `${unread} unread` }, String(unread)) : null,
        ),
      );
    }),
  );
  const mb = S.mailboxes.get(S.current);
  if (mb) {
    ui.listTitle.textContent = S.search ? `Search in ${mb.name}: ${S.search}` : mb.name;
    document.title = `${mb.name}${mb.unreadEmails ? ` (${mb.unreadEmails})` : ""} — tern webmail`;
  }
}

// ------------------------------------------------------------------ message list
function queryArgs() {
  const filter = { inMailbox: S.current };
  if (S.search) filter.text = S.search;
  return {
    filter,
    sort: [{ property: "receivedAt", isAscending: false }],
    collapseThreads: S.threads,
  };
}

function resetList() {
  S.list = { ids: [], total: 0, queryState: null, pages: new Set(), loading: new Set(), key: JSON.stringify(queryArgs()) };
  S.snippets.clear();
  S.cursor = -1;
  ui.scroller.scrollTop = 0;
  renderFolders();
  loadPage(0).catch(fail);
}

async function loadPage(pos, retried = false) {
  const list = S.list;
  const page = Math.floor(pos / PAGE) * PAGE;
  if (list.pages.has(page) || list.loading.has(page)) return;
  list.loading.add(page);
  try {
    const calls = [
      ["Email/query", { ...queryArgs(), position: page, limit: PAGE, calculateTotal: true }, "q"],
      ["Email/get", { "#ids": { resultOf: "q", name: "Email/query", path: "/ids" }, properties: LIST_PROPS }, "g"],
    ];
    if (S.threads)
      calls.push(["Thread/get", { "#ids": { resultOf: "g", name: "Email/get", path: "/list/*/threadId" } }, "t"]);
    if (S.search)
      calls.push(["SearchSnippet/get", { filter: queryArgs().filter, "#emailIds": { resultOf: "q", name: "Email/query", path: "/ids" } }, "s"]);
    const r = await jmap.request(calls);
    if (S.list !== list) return;
    if (list.queryState && r.q.queryState !== list.queryState && !retried) {
      // The list moved under us: catch up first, then load this page again.
      list.loading.delete(page);
      await sync();
      return loadPage(pos, true);
    }
    list.queryState = r.q.queryState;
    if (!S.emailState) S.emailState = r.g.state;
    list.total = r.q.total ?? Math.max(list.total, page + r.q.ids.length);
    if (list.ids.length !== list.total) list.ids.length = list.total;
    r.q.ids.forEach((id, i) => (list.ids[page + i] = id));
    for (const e of r.g.list) S.emails.set(e.id, e);
    if (r.t) for (const t of r.t.list) S.threadSize.set(t.id, t.emailIds.length);
    if (r.s) for (const sn of r.s.list) S.snippets.set(sn.emailId, sn);
    list.pages.add(page);
  } finally {
    list.loading.delete(page);
  }
  renderRows();
  if (S.cursor < 0 && list.total > 0 && document.body.dataset.view !== "login") S.cursor = 0;
}

function renderRows() {
  const list = S.list;
  if (!list || !ui.scroller) return;
  ui.spacer.style.height = `${Math.max(list.total, 0) * ROW}px`;
  const top = ui.scroller.scrollTop;
  const height = ui.scroller.clientHeight || 600;
  const first = Math.max(0, Math.floor(top / ROW) - 5);
  const last = Math.min(list.total, Math.ceil((top + height) / ROW) + 5);
  const keep = new Set();
  for (let i = first; i < last; i++) {
    const id = list.ids[i];
    if (id === undefined) {
      loadPage(i).catch(fail);
      continue;
    }
    keep.add(String(i));
  }
  for (const row of [...ui.scroller.querySelectorAll(".row")]) {
    if (!keep.has(row.dataset.index)) row.remove();
  }
  const existing = new Map([...ui.scroller.querySelectorAll(".row")].map((r) => [r.dataset.index, r]));
  for (const idx of keep) {
    const i = Number(idx);
    const e = S.emails.get(list.ids[i]);
    const key = rowKey(e, i);
    const old = existing.get(idx);
    if (old && old.dataset.key === key) continue;
    const row = rowFor(e, i);
    row.dataset.key = key;
    if (old) old.replaceWith(row);
    else ui.scroller.append(row);
  }
  // The first rows of messages on screen since the page loaded: a mark
  // (in the next frame, when they are painted) that make bench reads.
  if (!S.rowsMarked && keep.size && list.pages.size) {
    S.rowsMarked = true;
    requestAnimationFrame(() => performance.mark("tern-first-rows"));
  }
  if (list.total === 0 && list.pages.size) {
    if (!ui.scroller.querySelector(".empty")) ui.scroller.append(h("p.empty", S.search ? "No message matches." : "No messages in this folder."));
  } else {
    ui.scroller.querySelector(".empty")?.remove();
  }
}

// What a row shows: a row is rebuilt only when this changes (a node replaced
// under the pointer would lose a click).
function rowKey(e, i) {
  if (!e) return "loading";
  const n = S.threads ? S.threadSize.get(e.threadId) || 1 : 1;
  const sn = S.snippets.get(e.id);
  return [e.id, Object.keys(e.keywords || {}).sort().join(","), n, e.subject, i === S.cursor, e.id === S.openId, S.current, sn ? 1 : 0].join("|");
}

function rowFor(e, i) {
  if (!e) return h("div.row.loading", { "data-index": String(i), role: "option", "aria-selected": "false" }, "…");
  const k = e.keywords || {};
  const n = S.threads ? S.threadSize.get(e.threadId) || 1 : 1;
  const mb = S.mailboxes.get(S.current);
  const who = mb && (mb.role === "sent" || mb.role === "drafts") ? "To: " + addrShort(e.to) : addrShort(e.from);
  const sn = S.search ? S.snippets.get(e.id) : null;
  const row = h(
    "div.row",
    {
      id: "row-" + i,
      "data-index": String(i),
      "data-id": e.id,
      role: "option",
      "aria-selected": i === S.cursor ? "true" : "false",
      class: "row" + (k.$seen ? "" : " unseen") + (k.$flagged ? " flagged" : "") + (i === S.cursor ? " cursor" : "") + (e.id === S.openId ? " open" : ""),
    },
    h("span.from", who || "(no sender)", n > 1 ? h("span.tcount", ` ${n}`) : null),
    h("span.date", fmtDate(e.receivedAt)),
    h("span.subject", k.$flagged ? h("span.flag", { "aria-label": "flagged" }, "★ ") : null, e.hasAttachment ? h("span.clip", { title: "has attachments" }, "att") : null, sn?.subject ? marked(sn.subject) : e.subject || "(no subject)"),
    h("span.preview", sn?.preview ? marked(sn.preview) : e.preview || ""),
  );
  row.style.top = `${i * ROW}px`;
  return row;
}

// A SearchSnippet string (RFC 8621 section 5: escaped text, the matches
// between <mark> and </mark>) as text nodes and <mark> elements; no markup
// of the server's reaches innerHTML.
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" };
function marked(html) {
  const text = (s) => s.replace(/&(amp|lt|gt|quot|#39);/g, (_, n) => ENTITIES[n]);
  return html.split(/(<mark>.*?<\/mark>)/s).map((part) => {
    const m = /^<mark>(.*)<\/mark>$/s.exec(part);
    return m ? h("mark", text(m[1])) : text(part);
  });
}

function select(i, openIt) {
  const list = S.list;
  if (!list || i < 0 || i >= list.total) return;
  S.cursor = i;
  const top = i * ROW;
  if (top < ui.scroller.scrollTop) ui.scroller.scrollTop = top;
  else if (top + ROW > ui.scroller.scrollTop + ui.scroller.clientHeight) ui.scroller.scrollTop = top + ROW - ui.scroller.clientHeight;
  renderRows();
  ui.scroller.setAttribute("aria-activedescendant", "row-" + i);
  const id = list.ids[i];
  if (!openIt || !id) return;
  const hash = `#/m/${encodeURIComponent(S.current)}/${encodeURIComponent(id)}`;
  if (location.hash === hash) openEmail(id).catch(fail);
  else location.hash = hash;
}

// ------------------------------------------------------------------ changes
// Mailbox/changes, Email/changes and Email/queryChanges bring the view up to
// date (after a push event or our own changes); nothing is reloaded whole.
async function sync() {
  if (S.syncing) {
    S.syncAgain = true;
    return S.syncing;
  }
  S.syncing = (async () => {
    do {
      S.syncAgain = false;
      await syncOnce();
    } while (S.syncAgain);
  })().finally(() => (S.syncing = null));
  return S.syncing;
}

async function syncOnce() {
  const list = S.list;
  const calls = [];
  if (S.mailboxState) calls.push(["Mailbox/changes", { sinceState: S.mailboxState }, "mc"]);
  if (S.emailState) calls.push(["Email/changes", { sinceState: S.emailState }, "ec"]);
  if (list && list.queryState)
    calls.push(["Email/queryChanges", { ...queryArgs(), sinceQueryState: list.queryState, calculateTotal: true }, "qc"]);
  if (!calls.length) return;
  const r = await jmap.request(calls, ["mc", "ec", "qc"]);
  const next = [];
  if (r.mc) {
    if (r.mc.error) {
      await loadMailboxes();
    } else {
      for (const id of r.mc.destroyed) S.mailboxes.delete(id);
      const ids = [...r.mc.created, ...r.mc.updated];
      S.mailboxState = r.mc.newState;
      if (ids.length) next.push(["Mailbox/get", { ids }, "mg"]);
      if (r.mc.hasMoreChanges) S.syncAgain = true;
    }
  }
  let refetch = [];
  if (r.ec) {
    if (r.ec.error) {
      refetch = [...S.emails.keys()];
      S.emailState = null;
    } else {
      for (const id of r.ec.destroyed) S.emails.delete(id);
      refetch = r.ec.updated.filter((id) => S.emails.has(id));
      S.emailState = r.ec.newState;
      if (r.ec.hasMoreChanges) S.syncAgain = true;
    }
  }
  if (r.qc && S.list === list) {
    if (r.qc.error) {
      // The server cannot say what changed: query the visible page again,
      // showing the old rows meanwhile; other pages load again when seen.
      const cursorId = list.ids[S.cursor];
      const pos = Math.max(0, Math.floor(ui.scroller.scrollTop / ROW));
      const page = Math.floor(pos / PAGE) * PAGE;
      S.list = { ids: list.ids.slice(), total: list.total, queryState: null, pages: new Set(), loading: new Set() };
      await loadPage(pos);
      S.list.ids = S.list.ids.map((id, i) => (i >= page && i < page + PAGE ? id : undefined));
      const at = S.list.ids.indexOf(cursorId);
      S.cursor = at >= 0 ? at : Math.min(S.cursor, S.list.total - 1);
    } else {
      const cursorId = list.ids[S.cursor];
      const removed = new Set(r.qc.removed);
      const holes = list.ids.length !== list.ids.filter(() => true).length;
      const known = new Set(list.ids.filter(Boolean));
      if (holes && r.qc.removed.some((id) => !known.has(id))) {
        // A change in a part not loaded: positions of loaded pages are unsure.
        list.pages.clear();
        list.ids = [];
      }
      list.ids = list.ids.filter((id) => id === undefined || !removed.has(id));
      for (const { id, index } of [...r.qc.added].sort((a, b) => a.index - b.index)) {
        if (index > list.ids.length) list.ids.length = index;
        list.ids.splice(index, 0, id);
        if (!S.emails.has(id)) refetch.push(id);
      }
      list.total = r.qc.total ?? list.ids.length;
      list.ids.length = list.total;
      list.queryState = r.qc.newQueryState;
      list.pages = new Set([...list.pages].filter((p) => p < list.total));
      const at = cursorId ? list.ids.indexOf(cursorId) : -1;
      if (at >= 0) S.cursor = at;
      else S.cursor = Math.min(S.cursor, list.total - 1);
    }
  }
  if (refetch.length) {
    next.push(["Email/get", { ids: [...new Set(refetch)], properties: LIST_PROPS }, "eg"]);
    if (S.threads) next.push(["Thread/get", { "#ids": { resultOf: "eg", name: "Email/get", path: "/list/*/threadId" } }, "tg"]);
  }
  if (next.length) {
    const g = await jmap.request(next);
    if (g.mg) for (const mb of g.mg.list) S.mailboxes.set(mb.id, mb);
    if (g.eg) {
      for (const e of g.eg.list) S.emails.set(e.id, e);
      for (const id of g.eg.notFound || []) S.emails.delete(id);
      if (!S.emailState) S.emailState = g.eg.state;
    }
    if (g.tg) for (const t of g.tg.list) S.threadSize.set(t.id, t.emailIds.length);
  }
  renderFolders();
  renderRows();
}

function startPush() {
  if (S.es) S.es.close();
  S.es = jmap.push((changed) => {
    if (changed.Mailbox !== undefined || changed.Email !== undefined || changed.Thread !== undefined) sync().catch(fail);
  });
}

// ------------------------------------------------------------------ reading
let blobUrls = [];
function revokeBlobs() {
  for (const u of blobUrls) URL.revokeObjectURL(u);
  blobUrls = [];
}

function blobToDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const fr = new FileReader();
    fr.onload = () => resolve(fr.result);
    fr.onerror = () => reject(fr.error);
    fr.readAsDataURL(blob);
  });
}

async function openEmail(id) {
  S.openId = id;
  const r = await jmap.request([
    ["Email/get", { ids: [id], properties: FULL_PROPS, fetchTextBodyValues: true, fetchHTMLBodyValues: true, maxBodyValueBytes: 2000000 }, "e"],
    ["Thread/get", { "#ids": { resultOf: "e", name: "Email/get", path: "/list/*/threadId" } }, "t"],
    ["Email/get", { "#ids": { resultOf: "t", name: "Thread/get", path: "/list/*/emailIds" }, properties: LIST_PROPS }, "te"],
  ]);
  const e = r.e.list[0];
  if (!e || S.openId !== id) {
    if (!e) clear(ui.reader, h("p.placeholder", "This message is gone."));
    return;
  }
  const thread = r.te.list;
  renderReader(e, thread, false);
  setView("reader");
  renderRows();
  if (!(e.keywords || {}).$seen) {
    jmap
      .call("Email/set", { update: { [e.id]: { "keywords/$seen": true } } })
      .then(() => sync())
      .catch(fail);
  }
}

async function renderReader(e, thread, allowRemote) {
  revokeBlobs();
  const k = e.keywords || {};
  const moveSel = h(
    "select#move-to",
    { "aria-label": "Move to folder" },
    h("option", { value: "" }, "Move to…"),
    sortedMailboxes()
      .filter(([mb]) => !(e.mailboxIds || {})[mb.id])
      .map(([mb, depth]) => h("option", { value: mb.id }, "\u00a0".repeat(depth * 2) + mb.name)),
  );
  moveSel.addEventListener("change", () => moveSel.value && act("move", moveSel.value));
  const actions = h(
    "div.actions",
    { role: "toolbar", "aria-label": "Message actions" },
    h("button.phone-only#back-btn", { type: "button", onclick: () => setView("list") }, "← Back"),
    h("button#reply-btn", { type: "button", onclick: () => compose("reply", e), "aria-keyshortcuts": "r" }, "Reply"),
    h("button#replyall-btn", { type: "button", onclick: () => compose("replyall", e), "aria-keyshortcuts": "a" }, "Reply all"),
    h("button#forward-btn", { type: "button", onclick: () => compose("forward", e), "aria-keyshortcuts": "f" }, "Forward"),
    h("button#archive-btn", { type: "button", onclick: () => act("archive"), "aria-keyshortcuts": "e", disabled: !role("archive") }, "Archive"),
    h("button#flag-btn", { type: "button", onclick: () => act("flag"), "aria-pressed": k.$flagged ? "true" : "false", "aria-keyshortcuts": "s" }, k.$flagged ? "Unflag" : "Flag"),
    h("button#unread-btn", { type: "button", onclick: () => act("unread"), "aria-keyshortcuts": "u" }, "Mark unread"),
    h("button#spam-btn", { type: "button", onclick: () => act("spam"), "aria-keyshortcuts": "!", disabled: !role("junk") }, "Spam"),
    h("button#delete-btn", { type: "button", onclick: () => act("delete"), "aria-keyshortcuts": "#" }, "Delete"),
    moveSel,
  );
  if (k.$draft) actions.insertBefore(h("button#edit-draft-btn", { type: "button", onclick: () => compose("draft", e) }, "Edit draft"), actions.children[1]);
  const hdr = h(
    "div.msghead",
    h("h2#msg-subject", e.subject || "(no subject)"),
    h("dl", h("dt", "From"), h("dd#msg-from", addrText(e.from)), h("dt", "To"), h("dd", addrText(e.to)), e.cc && e.cc.length ? [h("dt", "Cc"), h("dd", addrText(e.cc))] : null, h("dt", "Date"), h("dd", fmtDate(e.sentAt || e.receivedAt, true))),
  );
  const others = thread.length > 1
    ? h(
        "details.thread",
        h("summary", `${thread.length} messages in this conversation`),
        h("ul", thread.map((t) => h("li", h("a", { href: `#/m/${encodeURIComponent(S.current)}/${encodeURIComponent(t.id)}`, "aria-current": t.id === e.id ? "true" : false }, `${addrShort(t.from)} — ${t.subject || ""} — ${fmtDate(t.receivedAt)}`)))),
      )
    : null;
  const body = h("div.body#msg-body");
  const atts = (e.attachments || []).filter((a) => a.disposition !== "inline" || !a.cid || !isReferenced(e, a.cid));
  const attList = atts.length
    ? h(
        "ul.attachments#attachments",
        { "aria-label": "Attachments" },
        atts.map((a) => {
          const li = h("li", h("a.attachment", { href: jmap.downloadUrl(a.blobId, a.name, a.type), download: a.name || "attachment", "data-blob": a.blobId }, a.name || "(unnamed)"), h("span.size", ` ${a.type || ""} · ${fmtSize(a.size || 0)}`));
          if (/^image\/(png|jpeg|gif|webp)$/i.test(a.type || "")) {
            jmap
              .fetchBlob(a.blobId, a.name, a.type)
              .then((b) => {
                const u = URL.createObjectURL(b);
                blobUrls.push(u);
                li.prepend(h("img.thumb", { src: u, alt: a.name || "image attachment" }));
              })
              .catch(() => {});
          }
          return li;
        }),
      )
    : null;
  clear(ui.reader, actions, hdr, others, attList, body);
  await renderBody(body, e, thread, allowRemote);
}

function isReferenced(e, cid) {
  return (e.htmlBody || []).some((p) => p.type === "text/html" && (e.bodyValues?.[p.partId]?.value || "").includes("cid:" + cid));
}

async function renderBody(body, e, thread, allowRemote) {
  const htmlPart = (e.htmlBody || []).find((p) => p.type === "text/html");
  if (htmlPart && e.bodyValues?.[htmlPart.partId]) {
    const cidUrls = {};
    for (const a of [...(e.attachments || []), ...(e.htmlBody || [])]) {
      if (!a.cid || !/^image\//i.test(a.type || "") || !a.blobId) continue;
      try {
        cidUrls[a.cid] = await blobToDataUrl(await jmap.fetchBlob(a.blobId, a.name, a.type));
      } catch {
        /* a missing inline image stays blank */
      }
    }
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    const { html, blocked } = mailDocument(e.bodyValues[htmlPart.partId].value, { cidUrls, allowRemote, dark });
    const frame = h("iframe.mailframe#msg-frame", { sandbox: "allow-popups allow-popups-to-escape-sandbox", referrerpolicy: "no-referrer", title: "Message body" });
    frame.src = await jmap.view(html, allowRemote);
    clear(
      body,
      blocked && !allowRemote
        ? h("div.notice#remote-notice", `Remote images were blocked (${blocked}). `, h("button#show-images", { type: "button", onclick: () => renderReader(e, thread, true) }, "Show images"))
        : null,
      frame,
    );
  } else {
    const text = (e.textBody || []).map((p) => e.bodyValues?.[p.partId]?.value || "").join("\n");
    clear(body, h("pre.text#msg-text", text || e.preview || ""));
  }
}

// ------------------------------------------------------------------ actions
async function act(what, target) {
  const id = S.openId || S.list?.ids[S.cursor];
  const e = id && S.emails.get(id);
  if (!id) return;
  const update = {};
  let leaves = false;
  const moveTo = (mbId) => {
    const patch = { mailboxIds: { [mbId]: true } };
    leaves = mbId !== S.current;
    return patch;
  };
  try {
    if (what === "flag") {
      const on = !(e?.keywords || {}).$flagged;
      update[id] = { "keywords/$flagged": on ? true : null };
    } else if (what === "unread") {
      update[id] = { "keywords/$seen": null };
    } else if (what === "archive") {
      update[id] = moveTo(role("archive"));
    } else if (what === "spam") {
      update[id] = { ...moveTo(role("junk")), "keywords/$junk": true, "keywords/$notjunk": null };
    } else if (what === "move") {
      update[id] = moveTo(target);
    } else if (what === "delete") {
      const trash = role("trash");
      if (!trash || S.current === trash) {
        if (!confirm("Delete this message for ever?")) return;
        const r = await jmap.call("Email/set", { destroy: [id] });
        if (r.notDestroyed) throw new Error("delete failed: " + JSON.stringify(r.notDestroyed));
        afterLeave();
        await sync();
        return;
      }
      update[id] = moveTo(trash);
    }
    // In threaded view, archive/spam/delete/move take the whole conversation
    // in this folder along.
    if (leaves && S.threads && e) {
      const t = await jmap.request([
        ["Thread/get", { ids: [e.threadId] }, "t"],
        ["Email/get", { "#ids": { resultOf: "t", name: "Thread/get", path: "/list/*/emailIds" }, properties: ["id", "mailboxIds"] }, "m"],
      ]);
      for (const m of t.m.list) if (m.mailboxIds[S.current] && !update[m.id]) update[m.id] = update[id];
    }
    const r = await jmap.call("Email/set", { update });
    if (r.notUpdated && Object.keys(r.notUpdated).length) throw new Error("not done: " + Object.values(r.notUpdated).map((x) => x.type).join(", "));
    status({ archive: "Archived.", spam: "Marked as spam.", move: "Moved.", delete: "Moved to Trash.", flag: "", unread: "Marked unread." }[what] || "");
    if (leaves) afterLeave();
    await sync();
    if (!leaves && S.openId === id) openEmail(id).catch(fail);
  } catch (err) {
    fail(err);
  }
}

function afterLeave() {
  S.openId = null;
  emptyReader();
  setView("list");
  if (location.hash.split("/").length > 3) history.replaceState(null, "", `#/m/${encodeURIComponent(S.current)}`);
}

// ------------------------------------------------------------------ compose
function identityFor() {
  return S.identities[0] || { id: null, name: "", email: jmap.username };
}

function compose(mode, orig) {
  S.openId = null;
  const ident = identityFor();
  let to = "", cc = "", subject = "", text = "", inReplyTo = null, references = null, draftId = null;
  let attachments = [];
  const re = (s) => (/^re:/i.test(s || "") ? s : "Re: " + (s || ""));
  if (orig) {
    const origText = (orig.textBody || []).map((p) => orig.bodyValues?.[p.partId]?.value || "").join("\n") || orig.preview || "";
    if (mode === "reply" || mode === "replyall") {
      to = addrText(orig.replyTo && orig.replyTo.length ? orig.replyTo : orig.from);
      if (mode === "replyall") {
        const me = new Set(S.identities.map((i) => i.email.toLowerCase()).concat([String(jmap.username).toLowerCase()]));
        cc = addrText([...(orig.to || []), ...(orig.cc || [])].filter((a) => !me.has(a.email.toLowerCase())));
      }
      subject = re(orig.subject);
      text = `\n\nOn ${fmtDate(orig.sentAt || orig.receivedAt, true)}, ${addrText(orig.from)} wrote:\n${quote(origText)}\n`;
      inReplyTo = orig.messageId || null;
      references = [...(orig.references || []), ...(orig.messageId || [])];
    } else if (mode === "forward") {
      subject = /^fwd?:/i.test(orig.subject || "") ? orig.subject : "Fwd: " + (orig.subject || "");
      text = `\n\n-------- Forwarded message --------\nFrom: ${addrText(orig.from)}\nDate: ${fmtDate(orig.sentAt || orig.receivedAt, true)}\nSubject: ${orig.subject || ""}\nTo: ${addrText(orig.to)}\n\n${origText}\n`;
      attachments = (orig.attachments || []).map((a) => ({ blobId: a.blobId, type: a.type, name: a.name, size: a.size }));
    } else if (mode === "draft") {
      to = addrText(orig.to);
      cc = addrText(orig.cc);
      subject = orig.subject || "";
      text = origText;
      inReplyTo = orig.inReplyTo;
      references = orig.references;
      draftId = orig.id;
      attachments = (orig.attachments || []).map((a) => ({ blobId: a.blobId, type: a.type, name: a.name, size: a.size }));
    }
  }
  const fromSel = h("select#c-from", { name: "from" }, (S.identities.length ? S.identities : [ident]).map((i) => h("option", { value: i.id || "" }, i.name ? `${i.name} <${i.email}>` : i.email)));
  const toIn = h("input#c-to", { name: "to", value: to, autocomplete: "off", "aria-describedby": "c-addr-help" });
  const ccIn = h("input#c-cc", { name: "cc", value: cc, autocomplete: "off" });
  const bccIn = h("input#c-bcc", { name: "bcc", autocomplete: "off" });
  const subjIn = h("input#c-subject", { name: "subject", value: subject });
  const bodyIn = h("textarea#c-body", { name: "body", rows: "16" });
  bodyIn.value = text;
  const attUl = h("ul.attachments#c-attachments", { "aria-label": "Attachments" });
  const fileIn = h("input#c-files", { type: "file", multiple: true });
  const msg = h("p.error#c-error", { role: "alert" });
  const renderAtts = () =>
    clear(
      attUl,
      attachments.map((a, i) =>
        h("li", a.name || "(unnamed)", h("span.size", ` ${fmtSize(a.size || 0)} `), h("button.linkish", { type: "button", "aria-label": `Remove ${a.name}`, onclick: () => { attachments.splice(i, 1); renderAtts(); } }, "✕")),
      ),
    );
  renderAtts();
  fileIn.addEventListener("change", async () => {
    for (const f of fileIn.files) {
      status(`Uploading ${f.name}…`);
      try {
        const up = await jmap.upload(f);
        attachments.push({ blobId: up.blobId, type: f.type || up.type || "application/octet-stream", name: f.name, size: up.size ?? f.size });
        renderAtts();
        status("");
      } catch (err) {
        fail(err);
      }
    }
    fileIn.value = "";
  });
  const build = () => {
    const i = S.identities.find((x) => x.id === fromSel.value) || ident;
    const drafts = role("drafts");
    if (!drafts) throw new Error("there is no Drafts folder");
    const email = {
      mailboxIds: { [drafts]: true },
      keywords: { $draft: true, $seen: true },
      from: [{ name: i.name || null, email: i.email }],
      to: parseAddrs(toIn.value),
      subject: subjIn.value,
      bodyValues: { body: { value: bodyIn.value } },
      textBody: [{ partId: "body", type: "text/plain" }],
    };
    const c = parseAddrs(ccIn.value), b = parseAddrs(bccIn.value);
    if (c.length) email.cc = c;
    if (b.length) email.bcc = b;
    if (inReplyTo && inReplyTo.length) email.inReplyTo = inReplyTo;
    if (references && references.length) email.references = references;
    if (attachments.length) email.attachments = attachments.map((a) => ({ blobId: a.blobId, type: a.type, name: a.name, disposition: "attachment" }));
    return { email, identity: i };
  };
  const save = async (send) => {
    msg.textContent = "";
    const { email, identity } = build();
    if (send && !email.to.length && !(email.cc || []).length && !(email.bcc || []).length) {
      msg.textContent = "Add at least one recipient.";
      toIn.focus();
      return;
    }
    const drafts = role("drafts"), sent = role("sent");
    const calls = [["Email/set", { create: { draft: email }, ...(draftId ? { destroy: [draftId] } : {}) }, "s"]];
    if (send) {
      const upd = { [`mailboxIds/${drafts}`]: null, "keywords/$draft": null };
      if (sent) upd[`mailboxIds/${sent}`] = true;
      calls.push([
        "EmailSubmission/set",
        { create: { sub: { identityId: identity.id, emailId: "#draft" } }, onSuccessUpdateEmail: { "#sub": upd } },
        "sub",
      ]);
    }
    form.querySelectorAll("button").forEach((b) => (b.disabled = true));
    try {
      const r = await jmap.request(calls);
      if (r.s.notCreated?.draft) throw new Error("could not save: " + (r.s.notCreated.draft.description || r.s.notCreated.draft.type));
      const newId = r.s.created.draft.id;
      if (send) {
        if (r.sub.notCreated?.sub) {
          draftId = newId;
          throw new Error("not sent: " + (r.sub.notCreated.sub.description || r.sub.notCreated.sub.type) + " (kept in Drafts)");
        }
        if (orig && (mode === "reply" || mode === "replyall")) {
          jmap.call("Email/set", { update: { [orig.id]: { "keywords/$answered": true } } }).catch(() => {});
        }
        status("Message sent.");
        closeCompose();
      } else {
        draftId = newId;
        status("Draft saved.");
      }
      sync().catch(fail);
    } catch (err) {
      msg.textContent = err.message;
    } finally {
      form.querySelectorAll("button").forEach((b) => (b.disabled = false));
    }
  };
  const form = h(
    "form.compose#compose",
    { "aria-labelledby": "c-title", onsubmit: (ev) => { ev.preventDefault(); save(true); } },
    h("h2#c-title", mode === "reply" || mode === "replyall" ? "Reply" : mode === "forward" ? "Forward" : "New message"),
    h("div.field", h("label", { for: "c-from" }, "From"), fromSel),
    h("div.field", h("label", { for: "c-to" }, "To"), toIn),
    h("div.field", h("label", { for: "c-cc" }, "Cc"), ccIn),
    h("div.field", h("label", { for: "c-bcc" }, "Bcc"), bccIn),
    h("p.help#c-addr-help", "Separate addresses with commas."),
    h("div.field", h("label", { for: "c-subject" }, "Subject"), subjIn),
    h("label.sr-only", { for: "c-body" }, "Message text"),
    bodyIn,
    h("div.field", h("label", { for: "c-files" }, "Attach files"), fileIn),
    attUl,
    msg,
    h(
      "div.buttons",
      h("button.primary#c-send", { type: "submit" }, "Send"),
      h("button#c-save", { type: "button", onclick: () => save(false) }, "Save draft"),
      h("button#c-discard", { type: "button", onclick: closeCompose }, "Discard"),
    ),
  );
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") closeCompose();
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) save(true);
  });
  clear(ui.reader, form);
  setView("reader");
  (to ? bodyIn : toIn).focus();
  if (mode === "reply" || mode === "replyall") bodyIn.setSelectionRange(0, 0);
}

function closeCompose() {
  emptyReader();
  setView("list");
  ui.scroller.focus();
}

// ------------------------------------------------------------------ settings
async function showSettings() {
  S.openId = null;
  setView("reader");
  const r = await jmap.request(
    [
      ["Identity/get", { ids: null }, "i"],
      ["VacationResponse/get", { ids: null }, "v"],
    ],
    ["i", "v"],
  );
  const idents = r.i && !r.i.error ? r.i.list : [];
  const vac = r.v && !r.v.error ? r.v.list[0] : null;
  const toLocal = (iso) => (iso ? new Date(iso).toISOString().slice(0, 16) : "");
  const en = h("input#v-enabled", { type: "checkbox", checked: vac?.isEnabled });
  const from = h("input#v-from", { type: "datetime-local", value: toLocal(vac?.fromDate) });
  const to = h("input#v-to", { type: "datetime-local", value: toLocal(vac?.toDate) });
  const subj = h("input#v-subject", { value: vac?.subject || "" });
  const text = h("textarea#v-text", { rows: "6" });
  text.value = vac?.textBody || "";
  const out = h("p#v-status", { role: "status" });
  const vacForm = vac
    ? h(
        "form.vacation",
        {
          "aria-labelledby": "v-title",
          onsubmit: async (ev) => {
            ev.preventDefault();
            const iso = (v) => (v ? new Date(v).toISOString().replace(/\.\d+Z$/, "Z") : null);
            try {
              const res = await jmap.call("VacationResponse/set", {
                update: { singleton: { isEnabled: en.checked, fromDate: iso(from.value), toDate: iso(to.value), subject: subj.value || null, textBody: text.value || null } },
              });
              if (res.notUpdated?.singleton) throw new Error(res.notUpdated.singleton.description || res.notUpdated.singleton.type);
              out.textContent = "Saved.";
            } catch (err) {
              out.textContent = "Not saved: " + err.message;
            }
          },
        },
        h("h3#v-title", "Vacation reply"),
        h("div.field", h("label", { for: "v-enabled" }, "Send automatic replies"), en),
        h("div.field", h("label", { for: "v-from" }, "From"), from),
        h("div.field", h("label", { for: "v-to" }, "Until"), to),
        h("div.field", h("label", { for: "v-subject" }, "Subject"), subj),
        h("label", { for: "v-text" }, "Message"),
        text,
        h("div.buttons", h("button.primary", { type: "submit" }, "Save")),
        out,
      )
    : h("p", "This server offers no vacation replies.");
  clear(
    ui.reader,
    h(
      "div.settings#settings",
      h("button.phone-only", { type: "button", onclick: () => history.back() }, "← Back"),
      h("h2", "Settings"),
      h("h3", "Identities"),
      idents.length
        ? h("ul.identities#identities", idents.map((i) => h("li", i.name ? `${i.name} <${i.email}>` : i.email, i.replyTo?.length ? ` (reply to ${addrText(i.replyTo)})` : "")))
        : h("p", "No identities: mail is sent as " + jmap.username + "."),
      h("p.help", "The first identity is the default sender. Identities are managed by the administrator (tern user)."),
      vacForm,
      h("h3", "Keyboard shortcuts"),
      h("dl.shortcuts", [["j / k", "next / previous message"], ["Enter, o", "open"], ["r", "reply"], ["a", "reply all"], ["f", "forward"], ["c", "compose"], ["/", "search"], ["e", "archive"], ["#", "delete"], ["!", "mark as spam"], ["s", "flag"], ["u", "back to the list"]].map(([k, d]) => [h("dt", h("kbd", k)), h("dd", d)])),
    ),
  );
}

// ------------------------------------------------------------------ routing and keys
async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "settings") return showSettings().catch(fail);
  let mbId = parts[0] === "m" && S.mailboxes.has(parts[1]) ? parts[1] : role("inbox") || sortedMailboxes()[0]?.[0].id;
  if (mbId !== S.current || !S.list) {
    S.current = mbId;
    S.search = "";
    if (ui.search) ui.search.value = "";
    resetList();
    if (!parts[2]) setView("list");
  }
  renderFolders();
  if (parts[0] === "m" && parts[2]) {
    const i = S.list.ids.indexOf(parts[2]);
    if (i >= 0) S.cursor = i;
    await openEmail(parts[2]).catch(fail);
  } else if (S.openId || ui.reader.querySelector("#settings")) {
    S.openId = null;
    emptyReader();
    setView("list");
  }
}

function onKey(ev) {
  if (document.body.dataset.view === "login" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (inputs(ev.target)) {
    if (ev.key === "Escape") ev.target.blur();
    return;
  }
  const cur = () => S.emails.get(S.openId);
  const map = {
    j: () => select(S.cursor + 1, !!S.openId),
    k: () => select(Math.max(0, S.cursor - 1), !!S.openId),
    ArrowDown: () => select(S.cursor + 1, false),
    ArrowUp: () => select(Math.max(0, S.cursor - 1), false),
    Enter: () => select(S.cursor, true),
    o: () => select(S.cursor, true),
    r: () => S.openId && openFull(S.openId).then((e) => compose("reply", e)),
    a: () => S.openId && openFull(S.openId).then((e) => compose("replyall", e)),
    f: () => S.openId && openFull(S.openId).then((e) => compose("forward", e)),
    c: () => compose(),
    "/": () => ui.search.focus(),
    e: () => act("archive"),
    "#": () => act("delete"),
    "!": () => act("spam"),
    s: () => cur() && act("flag"),
    u: () => afterLeave(),
  };
  const fn = map[ev.key];
  if (fn) {
    ev.preventDefault();
    Promise.resolve(fn()).catch(fail);
  }
}

async function openFull(id) {
  const r = await jmap.call("Email/get", { ids: [id], properties: FULL_PROPS, fetchTextBodyValues: true });
  return r.list[0];
}

// ------------------------------------------------------------------ start
async function start() {
  document.body.dataset.view = "list";
  buildShell();
  status("Loading…");
  await loadMailboxes();
  const r = await jmap.request([["Identity/get", { ids: null }, "i"]], ["i"]);
  S.identities = r.i && !r.i.error ? r.i.list : [];
  S.list = null;
  S.current = null;
  await route();
  status("");
  startPush();
}

window.addEventListener("hashchange", () => {
  if (jmap.session) route().catch(fail);
});
document.addEventListener("keydown", onKey);
window.addEventListener("focus", () => {
  if (jmap.session) sync().catch(() => {});
});

(async () => {
  try {
    if (await jmap.resume()) await start();
    else showLogin();
  } catch (e) {
    console.error(e);
    showLogin();
  }
})();
