// A throw-away in-memory stand-in for tern's http+jmap, for developing the
// webmail only (never used by a test): node web/dev/mock-server.mjs PORT DIR
// serves DIR (build/web) and the contract's endpoints (WEB-CONTRACT.md) for
// users "ann" and "bob" (password "secret") with a few sample messages.
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import crypto from "node:crypto";

const port = Number(process.argv[2] || 8088);
const dir = path.resolve(process.argv[3] || "build/web");
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; frame-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const sessions = new Map();
const blobs = new Map();
let state = 1;
const log = []; // [state, user, kind, id]
const listeners = new Set();
const accounts = {};

function account(user) {
  if (accounts[user]) return accounts[user];
  const mbs = ["Inbox:inbox", "Drafts:drafts", "Sent:sent", "Archive:archive", "Junk:junk", "Trash:trash", "Projects:"].map((s, i) => {
    const [name, role] = s.split(":");
    return { id: `${user}-mb${i}`, name, role: role || null, parentId: null, sortOrder: i };
  });
  const a = (accounts[user] = { mailboxes: mbs, emails: new Map() });
  const inbox = mbs[0].id;
  const sample = [
    ["Bob", "bob@example.com", "Quarterly report", "Hi,\n\nthe report is attached.\n\nCarol", false],
    ["Dan", "dan@example.net", "Lunch on Friday?", "Are you free on Friday at noon?", true],
    ["Newsletter", "news@example.com", "This week in mail", null, true],
  ];
  for (let i = 0; i < 60; i++) {
    const [name, email, subject, text, seen] = sample[i % sample.length];
    const html = text ? null : `<p>Hello <b>reader</b>, <a href="javascript:alert(1)">click</a></p><img src="http://127.0.0.1:9/x.png"><script>parent.pwned=1</script>`;
    addEmail(user, {
      mailboxIds: { [inbox]: true },
      keywords: seen ? { $seen: true } : {},
      from: [{ name, email }],
      to: [{ name: null, email: `${user}@example.com` }],
      subject: i < 3 ? subject : `Old message #${i}`,
      text: text || "Hello reader, click",
      html,
      attachments: i === 0 ? [{ name: "report.txt", type: "text/plain", data: Buffer.from("numbers\n") }] : [],
      receivedAt: new Date(Date.now() - i * 3600e3).toISOString(),
    });
  }
  return a;
}

function addEmail(user, m) {
  const a = accounts[user];
  const id = "e" + crypto.randomBytes(5).toString("hex");
  const textBlob = putBlob(Buffer.from(m.text || ""), "text/plain");
  const e = {
    id,
    blobId: id + "-raw",
    threadId: m.threadId || "t" + id,
    mailboxIds: m.mailboxIds,
    keywords: m.keywords || {},
    from: m.from,
    to: m.to || [],
    cc: m.cc || null,
    bcc: m.bcc || null,
    replyTo: null,
    subject: m.subject,
    receivedAt: m.receivedAt || new Date().toISOString(),
    sentAt: m.receivedAt || new Date().toISOString(),
    messageId: [id + "@mock"],
    inReplyTo: m.inReplyTo || null,
    references: m.references || null,
    preview: (m.text || "").slice(0, 120).replace(/\s+/g, " "),
    size: (m.text || "").length + 500,
    bodyValues: { 1: { value: m.text || "", isTruncated: false } },
    textBody: [{ partId: "1", blobId: textBlob, type: "text/plain", size: (m.text || "").length }],
    htmlBody: [{ partId: "1", blobId: textBlob, type: "text/plain" }],
    attachments: (m.attachments || []).map((x) => ({ partId: null, blobId: x.blobId || putBlob(x.data, x.type), name: x.name, type: x.type, size: x.size ?? x.data.length, disposition: "attachment" })),
  };
  if (m.html) {
    e.bodyValues[2] = { value: m.html, isTruncated: false };
    e.htmlBody = [{ partId: "2", type: "text/html", blobId: putBlob(Buffer.from(m.html), "text/html") }];
  }
  e.hasAttachment = e.attachments.length > 0;
  a.emails.set(id, e);
  change(user, "created", id);
  return e;
}

function putBlob(data, type) {
  const id = "b" + crypto.randomBytes(6).toString("hex");
  blobs.set(id, { data, type });
  return id;
}

function change(user, kind, id) {
  state++;
  log.push([state, user, kind, id]);
  for (const l of listeners) if (l.user === user) l.send();
}

function counts(user, mb) {
  const list = [...accounts[user].emails.values()].filter((e) => e.mailboxIds[mb.id]);
  return { ...mb, totalEmails: list.length, unreadEmails: list.filter((e) => !e.keywords.$seen).length, totalThreads: list.length, unreadThreads: 0, myRights: {}, isSubscribed: true };
}

function query(user, args) {
  let list = [...accounts[user].emails.values()];
  const f = args.filter || {};
  if (f.inMailbox) list = list.filter((e) => e.mailboxIds[f.inMailbox]);
  if (f.text) list = list.filter((e) => (e.subject + " " + e.preview + " " + JSON.stringify(e.from)).toLowerCase().includes(f.text.toLowerCase()));
  list.sort((a, b) => (a.receivedAt < b.receivedAt ? 1 : -1));
  if (args.collapseThreads) {
    const seen = new Set();
    list = list.filter((e) => !seen.has(e.threadId) && seen.add(e.threadId));
  }
  return list.map((e) => e.id);
}

function pick(o, props) {
  if (!props) return o;
  const r = { id: o.id };
  for (const p of props) r[p] = o[p] ?? null;
  return r;
}

function resolve(args, results) {
  const out = {};
  for (const [k, v] of Object.entries(args)) {
    if (k[0] !== "#") {
      out[k] = v;
      continue;
    }
    const src = results.find((r) => r[2] === v.resultOf)[1];
    const walk = (obj, parts) => {
      if (!parts.length) return obj;
      const [p, ...rest] = parts;
      if (p === "*") return obj.flatMap((x) => [].concat(walk(x, rest)));
      return walk(obj[p], rest);
    };
    out[k.slice(1)] = walk(src, v.path.split("/").slice(1));
  }
  return out;
}

function patch(e, p) {
  for (const [k, v] of Object.entries(p)) {
    const parts = k.split("/");
    if (parts.length === 1) e[k] = v;
    else if (v === null) delete e[parts[0]][parts[1]];
    else e[parts[0]][parts[1]] = v;
  }
}

function method(user, name, args) {
  const a = account(user);
  const S = String(state);
  switch (name) {
    case "Mailbox/get":
      return { state: S, list: a.mailboxes.map((m) => counts(user, m)), notFound: [] };
    case "Mailbox/changes":
      return { oldState: args.sinceState, newState: S, hasMoreChanges: false, created: [], updated: a.mailboxes.map((m) => m.id), destroyed: [] };
    case "Mailbox/set": {
      const created = {};
      for (const [cid, m] of Object.entries(args.create || {})) {
        const mb = { id: `${user}-mb${a.mailboxes.length}`, name: m.name, role: null, parentId: m.parentId || null, sortOrder: 10 };
        a.mailboxes.push(mb);
        created[cid] = { id: mb.id };
      }
      change(user, "mailbox", "");
      return { oldState: S, newState: String(state), created, notCreated: {} };
    }
    case "Email/query": {
      const ids = query(user, args);
      const pos = args.position || 0;
      return { queryState: S, canCalculateChanges: true, position: pos, ids: ids.slice(pos, pos + (args.limit || 50)), total: ids.length };
    }
    case "Email/queryChanges":
      return ["error", { type: "cannotCalculateChanges" }];
    case "Email/get":
      return { state: S, list: (args.ids || []).filter((id) => a.emails.has(id)).map((id) => pick(a.emails.get(id), args.properties)), notFound: (args.ids || []).filter((id) => !a.emails.has(id)) };
    case "Email/changes": {
      const since = Number(args.sinceState);
      const rows = log.filter((l) => l[0] > since && l[1] === user);
      const ids = (k) => [...new Set(rows.filter((r) => r[2] === k).map((r) => r[3]))];
      return { oldState: args.sinceState, newState: S, hasMoreChanges: false, created: ids("created"), updated: ids("updated"), destroyed: ids("destroyed") };
    }
    case "Thread/get":
      return { state: S, list: [...new Set(args.ids)].map((t) => ({ id: t, emailIds: [...a.emails.values()].filter((e) => e.threadId === t).map((e) => e.id) })), notFound: [] };
    case "Email/set": {
      const r = { oldState: S, created: {}, updated: {}, destroyed: [], notCreated: {}, notUpdated: {}, notDestroyed: {} };
      for (const [cid, m] of Object.entries(args.create || {})) {
        const text = m.bodyValues?.[m.textBody?.[0]?.partId]?.value || "";
        const e = addEmail(user, { ...m, text, attachments: (m.attachments || []).map((x) => ({ ...x, size: blobs.get(x.blobId)?.data.length || 0 })) });
        r.created[cid] = { id: e.id, blobId: e.blobId, threadId: e.threadId, size: e.size };
      }
      for (const [id, p] of Object.entries(args.update || {})) {
        const e = a.emails.get(id);
        if (!e) r.notUpdated[id] = { type: "notFound" };
        else {
          patch(e, p);
          r.updated[id] = null;
          change(user, "updated", id);
        }
      }
      for (const id of args.destroy || []) {
        if (a.emails.delete(id)) {
          r.destroyed.push(id);
          change(user, "destroyed", id);
        }
      }
      r.newState = String(state);
      return r;
    }
    case "Identity/get":
      return { state: "1", list: [{ id: "i1", name: user[0].toUpperCase() + user.slice(1), email: `${user}@example.com`, replyTo: null, mayDelete: false }], notFound: [] };
    case "VacationResponse/get":
      return { state: "1", list: [a.vacation || { id: "singleton", isEnabled: false, fromDate: null, toDate: null, subject: null, textBody: null, htmlBody: null }], notFound: [] };
    case "VacationResponse/set":
      a.vacation = { id: "singleton", ...args.update.singleton };
      return { oldState: "1", newState: "2", updated: { singleton: null } };
    default:
      return ["error", { type: "unknownMethod" }];
  }
}

function submission(user, args, results) {
  const a = account(user);
  const r = { created: {}, notCreated: {} };
  for (const [cid, s] of Object.entries(args.create || {})) {
    let id = s.emailId;
    if (id[0] === "#") {
      for (const res of results) if (res[1].created?.[id.slice(1)]) id = res[1].created[id.slice(1)].id;
    }
    const e = a.emails.get(id);
    for (const rcpt of [...(e.to || []), ...(e.cc || [])]) {
      const u = rcpt.email.split("@")[0];
      if (!["ann", "bob"].includes(u)) continue;
      const b = account(u);
      addEmail(u, { mailboxIds: { [b.mailboxes[0].id]: true }, from: e.from, to: e.to, subject: e.subject, text: e.bodyValues[1].value, attachments: e.attachments.map((x) => ({ ...x })) });
    }
    r.created[cid] = { id: "s" + cid };
    const p = args.onSuccessUpdateEmail?.["#" + cid];
    if (p) {
      patch(e, p);
      change(user, "updated", e.id);
    }
  }
  return r;
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

function cookieSession(req) {
  const m = /tern_session=([^;]+)/.exec(req.headers.cookie || "");
  return m && sessions.get(m[1]);
}

http
  .createServer(async (req, res) => {
    res.setHeader("Content-Security-Policy", CSP);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    const url = new URL(req.url, "http://x");
    const send = (code, obj) => {
      res.writeHead(code, { "Content-Type": "application/json" });
      res.end(obj === undefined ? "" : JSON.stringify(obj));
    };
    if (url.pathname === "/api/login" && req.method === "POST") {
      const { username, password } = JSON.parse(await body(req));
      if (!["ann", "bob"].includes(username) || password !== "secret") return setTimeout(() => send(401, { error: "authentication failed" }), 300);
      const sid = crypto.randomBytes(16).toString("hex");
      const csrf = crypto.randomBytes(16).toString("hex");
      sessions.set(sid, { user: username, csrf });
      account(username);
      res.setHeader("Set-Cookie", `tern_session=${sid}; HttpOnly; SameSite=Strict; Path=/`);
      return send(200, { csrf, username });
    }
    const sess = cookieSession(req);
    if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/jmap") || url.pathname === "/.well-known/jmap") {
      if (!sess) return send(401, { error: "not logged in" });
      if (req.method !== "GET" && req.method !== "HEAD" && req.headers["x-csrf-token"] !== sess.csrf) return send(403, { error: "csrf" });
    }
    const user = sess?.user;
    if (url.pathname === "/api/session") return send(200, { csrf: sess.csrf, username: user });
    if (url.pathname === "/api/logout") {
      for (const [k, v] of sessions) if (v === sess) sessions.delete(k);
      res.writeHead(204);
      return res.end();
    }
    if (url.pathname === "/.well-known/jmap")
      return send(200, {
        capabilities: { "urn:ietf:params:jmap:core": {}, "urn:ietf:params:jmap:mail": {}, "urn:ietf:params:jmap:submission": {}, "urn:ietf:params:jmap:vacationresponse": {} },
        accounts: { [user]: { name: user, isPersonal: true, isReadOnly: false, accountCapabilities: {} } },
        primaryAccounts: { "urn:ietf:params:jmap:mail": user },
        username: user,
        apiUrl: "/jmap/api",
        downloadUrl: "/jmap/download/{accountId}/{blobId}/{name}?type={type}",
        uploadUrl: "/jmap/upload/{accountId}/",
        eventSourceUrl: "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
        state: "1",
      });
    if (url.pathname === "/jmap/api") {
      const reqBody = JSON.parse(await body(req));
      const results = [];
      for (const [name, args, id] of reqBody.methodCalls) {
        try {
          const a = resolve(args, results);
          const r = name === "EmailSubmission/set" ? submission(user, a, results) : method(user, name, a);
          results.push(Array.isArray(r) ? [r[0], r[1], id] : [name, { accountId: user, ...r }, id]);
        } catch (e) {
          results.push(["error", { type: "serverFail", description: String(e) }, id]);
        }
      }
      return send(200, { methodResponses: results, sessionState: "1" });
    }
    if (url.pathname.startsWith("/jmap/upload/")) {
      const data = await body(req);
      const id = putBlob(data, req.headers["content-type"]);
      return send(201, { accountId: user, blobId: id, type: req.headers["content-type"], size: data.length });
    }
    if (url.pathname.startsWith("/jmap/download/")) {
      const [, , , , blobId, name] = url.pathname.split("/");
      const b = blobs.get(decodeURIComponent(blobId));
      if (!b) return send(404, { error: "no blob" });
      res.writeHead(200, { "Content-Type": url.searchParams.get("type") || b.type, "Content-Disposition": `attachment; filename="${decodeURIComponent(name)}"` });
      return res.end(b.data);
    }
    if (url.pathname.startsWith("/jmap/eventsource")) {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      const l = { user, send: () => res.write(`event: state\ndata: ${JSON.stringify({ "@type": "StateChange", changed: { [user]: { Email: String(state), Mailbox: String(state) } } })}\n\n`) };
      listeners.add(l);
      req.on("close", () => listeners.delete(l));
      return res.write(": hello\n\n");
    }
    const file = url.pathname === "/" ? "index.html" : url.pathname.slice(1);
    const full = path.join(dir, file);
    if (!full.startsWith(dir)) return send(404, {});
    try {
      const data = await readFile(full);
      const type = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" }[path.extname(full)] || "application/octet-stream";
      res.writeHead(200, { "Content-Type": type });
      res.end(data);
    } catch {
      send(404, { error: "not found" });
    }
  })
  .listen(port, "127.0.0.1", () => console.log(`mock on http://127.0.0.1:${port}/`));
