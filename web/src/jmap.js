// A small JMAP client (RFC 8620, 8621) for tern's http: the login session is
// a cookie plus a CSRF token kept in memory only (never in storage).

export const CAPS = [
  "urn:ietf:params:jmap:core",
  "urn:ietf:params:jmap:mail",
  "urn:ietf:params:jmap:submission",
  "urn:ietf:params:jmap:vacationresponse",
];

export class HttpError extends Error {
  constructor(status, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
  }
}

export class MethodError extends Error {
  constructor(name, err) {
    super(`${name}: ${err.type}${err.description ? " (" + err.description + ")" : ""}`);
    this.type = err.type;
    this.detail = err;
  }
}

async function json(res) {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return { error: text };
  }
}

export class Client {
  constructor() {
    this.csrf = null;
    this.username = null;
    this.session = null;
    this.accountId = null;
    this.onAuthLost = () => {};
  }

  headers(extra = {}) {
    const h = { ...extra };
    if (this.csrf) h["X-CSRF-Token"] = this.csrf;
    return h;
  }

  // timeout: milliseconds before the request is given up (0: none).
  async fetch(url, opts = {}, timeout = 60000) {
    const ctl = new AbortController();
    const timer = timeout ? setTimeout(() => ctl.abort(), timeout) : null;
    let res;
    try {
      res = await fetch(url, {
        credentials: "same-origin",
        cache: "no-store",
        signal: ctl.signal,
        ...opts,
        headers: this.headers(opts.headers || {}),
      });
    } catch (e) {
      if (e.name === "AbortError") throw new Error("the server did not answer in time; try again");
      throw new Error("cannot reach the server (" + e.message + ")");
    } finally {
      clearTimeout(timer);
    }
    if (res.status === 401) {
      this.csrf = null;
      this.onAuthLost();
    }
    return res;
  }

  // Reuses a session cookie after a reload; false when there is none.
  async resume() {
    const res = await fetch("/api/session", { credentials: "same-origin", cache: "no-store" });
    if (!res.ok) return false;
    const body = await json(res);
    this.csrf = body.csrf;
    this.username = body.username;
    await this.loadSession();
    return true;
  }

  async login(username, password) {
    const res = await fetch("/api/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    const body = await json(res);
    if (!res.ok) throw new HttpError(res.status, body.error || "login failed");
    this.csrf = body.csrf;
    this.username = body.username || username;
    await this.loadSession();
  }

  async logout() {
    try {
      await this.fetch("/api/logout", { method: "POST" });
    } finally {
      this.csrf = null;
      this.session = null;
    }
  }

  // Hands a sanitised message body to http, which serves it back from its
  // own URL under its own CSP (remote images only when images is true);
  // returns that URL for the reader's frame.
  async view(html, images) {
    const res = await this.fetch("/api/view" + (images ? "?images=1" : ""), {
      method: "POST",
      headers: { "Content-Type": "text/html; charset=utf-8" },
      body: html,
    });
    const body = await json(res);
    if (!res.ok) throw new HttpError(res.status, body.error || "cannot show the message");
    return body.url;
  }

  async loadSession() {
    const res = await this.fetch("/.well-known/jmap");
    if (!res.ok) throw new HttpError(res.status, "cannot read the JMAP session");
    this.session = await res.json();
    const pa = this.session.primaryAccounts || {};
    this.accountId = pa["urn:ietf:params:jmap:mail"] || Object.keys(this.session.accounts || {})[0];
    this.capabilities = this.session.capabilities || {};
  }

  has(cap) {
    return cap in (this.capabilities || {});
  }

  // calls: [[method, args, callId], ...] -> {callId: args}; a method error
  // throws unless the call id is listed in `tolerate`.
  async request(calls, tolerate = []) {
    const using = CAPS.filter((c) => this.has(c) || c === CAPS[0] || c === CAPS[1]);
    const res = await this.fetch(this.session.apiUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        using,
        methodCalls: calls.map(([name, args, id]) => [name, { accountId: this.accountId, ...args }, id]),
      }),
    });
    if (!res.ok) {
      const body = await json(res);
      throw new HttpError(res.status, body.detail || body.error || `JMAP request failed (${res.status})`);
    }
    const body = await res.json();
    const out = {};
    for (const [name, args, id] of body.methodResponses) {
      if (name === "error") {
        if (tolerate.includes(id)) out[id] = { error: args };
        else throw new MethodError(id, args);
      } else if (!(id in out)) {
        out[id] = args;
      } else {
        out[id + "/" + name] = args;
      }
    }
    return out;
  }

  async call(name, args) {
    const r = await this.request([[name, args, "0"]]);
    return r["0"];
  }

  downloadUrl(blobId, name, type, inline = false) {
    const u = this.session.downloadUrl
      .replace("{accountId}", encodeURIComponent(this.accountId))
      .replace("{blobId}", encodeURIComponent(blobId))
      .replace("{name}", encodeURIComponent(name || "attachment"))
      .replace("{type}", encodeURIComponent(type || "application/octet-stream"));
    return inline ? u + (u.includes("?") ? "&" : "?") + "inline=1" : u;
  }

  async fetchBlob(blobId, name, type) {
    const res = await this.fetch(this.downloadUrl(blobId, name, type, true));
    if (!res.ok) throw new HttpError(res.status, "download failed");
    return res.blob();
  }

  async upload(file) {
    const url = this.session.uploadUrl.replace("{accountId}", encodeURIComponent(this.accountId));
    const res = await this.fetch(
      url,
      { method: "POST", headers: { "Content-Type": file.type || "application/octet-stream" }, body: file },
      0,
    );
    const body = await json(res);
    if (!res.ok) throw new HttpError(res.status, body.detail || body.error || "upload failed");
    return body;
  }

  // Push (RFC 8620 7.3): calls onState(changed) with {Type: state} of our account.
  push(onState) {
    if (!this.session.eventSourceUrl || typeof EventSource === "undefined") return null;
    const url = this.session.eventSourceUrl
      .replace("{types}", "*")
      .replace("{closeafter}", "no")
      .replace("{ping}", "60");
    const es = new EventSource(url, { withCredentials: true });
    es.addEventListener("state", (ev) => {
      try {
        const data = JSON.parse(ev.data);
        const changed = (data.changed || {})[this.accountId];
        if (changed) onState(changed);
      } catch {
        /* a malformed event is ignored; the next one carries the states again */
      }
    });
    return es;
  }
}
