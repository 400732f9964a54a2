// What a page holds that only an injection puts there. Run by test_xss.py
// with page.evaluate() after each load; returns findings ([] = inert).
// `wait` (ms) lets load-time handlers (onerror, onfocus, animations,
// timers) run first.
async (wait) => {
  await new Promise((resolve) => setTimeout(resolve, wait));
  const found = [];
  const say = (what, el) =>
    found.push(what + (el ? " in " + el.outerHTML.slice(0, 160) : ""));

  if (window.__xss !== undefined) say("window.__xss = " + window.__xss);
  if (/^XSS/.test(document.title)) say("document.title = " + document.title);

  const SCRIPT_SCHEMES = ["javascript:", "vbscript:"];
  const URL_ATTRIBUTES = new Set([
    "href", "src", "action", "formaction", "data", "poster", "background",
    "lowsrc", "dynsrc", "codebase", "values", "to", "from", "by", "ping",
    "cite", "longdesc", "manifest", "srcset",
  ]);
  const SCRIPT_TYPES = new Set([
    "", "text/javascript", "application/javascript", "module",
    "text/ecmascript", "application/ecmascript", "text/jscript", "javascript",
  ]);
  const FRAMES = new Set([
    "iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal",
  ]);
  const HEAD_ONLY = new Set(["link", "style", "meta", "title"]);
  const isHtml = document.contentType === "text/html";  // not a feed's text view
  const ours = location.origin + "/static/";

  for (const el of document.querySelectorAll("*")) {
    const tag = el.localName.toLowerCase();
    const ns = el.namespaceURI || "";
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) {
        say("event handler " + name, el);
      } else if (name === "srcdoc") {
        say("srcdoc", el);
      } else if (
        name === "style" &&
        /expression\s*\(|javascript:|behavior\s*:|binding\s*:/i.test(attr.value)
      ) {
        say("script in a style", el);
      } else if (URL_ATTRIBUTES.has(name) || name.endsWith(":href")) {
        // The URL parser drops tabs, newlines and leading spaces, as the
        // browser does when it follows the link.
        let protocol = "";
        try {
          protocol = new URL(attr.value.trim(), document.baseURI).protocol;
        } catch (error) {}
        if (SCRIPT_SCHEMES.includes(protocol)) {
          say(protocol + " URL in " + name, el);
        } else if (
          protocol === "data:" &&
          !/^\s*data:image\/(png|gif|jpeg|webp)[;,]/i.test(attr.value)
        ) {
          say("data: URL in " + name, el);
        }
      }
    }
    const type = (el.getAttribute("type") || "").trim().toLowerCase();
    if (tag === "script" && isHtml && SCRIPT_TYPES.has(type)) {
      if (!el.getAttribute("src")) {
        say("inline script", el);
      } else if (
        !el.src.startsWith(ours) &&
        el.src !== location.origin + "/admin/jsi18n/" &&
        // Our JavaScript catalogue, one per language (blog/urls.py).
        !new RegExp("^" + location.origin + "/jsi18n/[A-Za-z-]+\\.js$").test(el.src)
      ) {
        say("script from " + el.src, el);
      }
    }
    if (FRAMES.has(tag)) say("<" + tag + ">", el);
    if (tag === "meta" && /refresh/i.test(el.getAttribute("http-equiv") || "")) {
      say("meta refresh", el);
    }
    const microdata = tag === "meta" && el.hasAttribute("itemprop");
    if (
      isHtml && HEAD_ONLY.has(tag) && ns.endsWith("xhtml") &&
      el.closest("body") && !microdata
    ) {
      say("<" + tag + "> in the body", el);
    }
  }
  return found;
}
