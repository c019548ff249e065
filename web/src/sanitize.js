// HTML mail to a document for a sandboxed iframe: DOMPurify removes scripts,
// event handlers, javascript: URLs, forms and embedded objects; remote images
// (and CSS url()s) are set aside until the user asks for them; cid: images
// become data: URLs of the message's own parts. The document carries its own
// CSP; http serves it from its own URL (/view/TOKEN) with the same policy
// as a header (a srcdoc frame would inherit the page's CSP, which allows
// neither remote images nor the mail's inline styles), and the iframe has
// `sandbox` without allow-scripts.
import DOMPurify from "dompurify";

const REMOTE = /^\s*(https?:)?\/\//i;
const CSS_URL = /url\(\s*(['"]?)([^'")]*)\1\s*\)/gi;

function cssRemote(css, allow) {
  return css.replace(CSS_URL, (m, q, url) => {
    if (/^\s*(data:|cid:)/i.test(url)) return m;
    if (REMOTE.test(url) && allow) return m;
    return "none";
  });
}

// Returns {html, blocked}: blocked counts the remote resources left out.
export function mailDocument(html, { cidUrls = {}, allowRemote = false, dark = false } = {}) {
  let blocked = 0;
  const purify = DOMPurify();
  purify.addHook("uponSanitizeElement", (node, data) => {
    if (data.tagName === "style" && node.textContent) {
      const before = node.textContent;
      const after = cssRemote(before, allowRemote);
      if (after !== before) blocked += before !== after ? 1 : 0;
      node.textContent = after;
    }
  });
  purify.addHook("afterSanitizeAttributes", (node) => {
    for (const attr of ["src", "srcset", "background", "poster"]) {
      if (!node.hasAttribute(attr)) continue;
      const v = node.getAttribute(attr);
      if (/^\s*cid:/i.test(v)) {
        const key = v.trim().slice(4).replace(/^<|>$/g, "");
        const url = cidUrls[key];
        if (url) node.setAttribute(attr, url);
        else node.removeAttribute(attr);
      } else if (/^\s*data:image\//i.test(v)) {
        /* kept: data: images load nothing */
      } else if (allowRemote && REMOTE.test(v)) {
        /* the user asked for remote images */
      } else {
        node.removeAttribute(attr);
        node.setAttribute("data-blocked-" + attr, "");
        blocked++;
      }
    }
    if (node.hasAttribute("style")) {
      const s = node.getAttribute("style");
      const t = cssRemote(s, allowRemote);
      if (t !== s) {
        node.setAttribute("style", t);
        blocked++;
      }
    }
    if (node.tagName === "A" && node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
  const body = purify.sanitize(html, {
    WHOLE_DOCUMENT: false,
    FORBID_TAGS: ["form", "input", "button", "textarea", "select", "base", "link", "meta", "iframe", "frame", "object", "embed", "audio", "video", "source", "track", "svg", "math"],
    FORBID_ATTR: ["action", "formaction", "ping"],
    ALLOW_UNKNOWN_PROTOCOLS: false,
    ADD_ATTR: ["target"],
  });
  const img = allowRemote ? "data: https: http:" : "data:";
  const csp = `default-src 'none'; img-src ${img}; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; form-action 'none'`;
  const scheme = dark ? "light dark" : "light";
  const doc =
    `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${csp}">` +
    `<meta name="color-scheme" content="${scheme}"><meta name="referrer" content="no-referrer">` +
    `<style>body{font:14px/1.45 system-ui,sans-serif;margin:12px;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style>` +
    `</head><body>${body}</body></html>`;
  return { html: doc, blocked };
}

// Plain text to safe HTML-free DOM: the caller puts it in textContent.
export function quote(text) {
  return (text || "")
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((l) => (l.startsWith(">") ? ">" + l : "> " + l))
    .join("\n");
}
