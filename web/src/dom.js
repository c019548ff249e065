// h("tag.class#id", {attrs, onclick: fn}, ...children): DOM nodes without
// innerHTML, so mail data is only ever text.
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
  const el = document.createElement(m[1] || "div");
  for (const part of m[2].match(/[.#][\w-]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function fmtDate(iso, full = false) {
  if (!iso) return "";
  const d = new Date(iso);
  const now = new Date();
  if (full) return d.toLocaleString();
  if (d.toDateString() === now.toDateString())
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (d.getFullYear() === now.getFullYear())
    return d.toLocaleDateString([], { month: "short", day: "numeric" });
  return d.toLocaleDateString();
}

export function fmtSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function addrText(list) {
  return (list || []).map((a) => (a.name ? `${a.name} <${a.email}>` : a.email)).join(", ");
}

export function addrShort(list) {
  return (list || []).map((a) => a.name || a.email).join(", ");
}

// "Ann <ann@x>, bob@y" -> [{name, email}]
export function parseAddrs(text) {
  const out = [];
  for (const raw of (text || "").split(/[,;]\s*(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
    const s = raw.trim();
    if (!s) continue;
    const m = /^(.*)<([^>]+)>$/.exec(s);
    if (m) out.push({ name: m[1].trim().replace(/^"|"$/g, "") || null, email: m[2].trim() });
    else out.push({ name: null, email: s });
  }
  return out;
}
