//! A small OpenAPI viewer served at `/v1/docs`, with no external assets: the page
//! and its script are embedded in the binary and the script only fetches
//! `/v1/openapi.json` from the same origin.

pub const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>custos API</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1b1b1b}
h1{font-size:1.6rem}.op{border:1px solid #ccc;border-radius:6px;margin:.8rem 0;padding:.6rem .9rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700;font-family:monospace}.GET{color:#0a5}.POST{color:#05a}.DELETE{color:#a20}
code,pre{font-family:ui-monospace,monospace;font-size:.9rem}pre{background:#f5f5f5;padding:.5rem;overflow:auto}
details summary{cursor:pointer}
</style>
</head>
<body>
<h1>custos API</h1>
<p>The machine-readable description is at <a href="/v1/openapi.json">/v1/openapi.json</a>. Every endpoint under <code>/v1</code> except this page and the document needs <code>Authorization: Bearer ck_…</code>.</p>
<div id="ops"><noscript>Open <a href="/v1/openapi.json">/v1/openapi.json</a> to read the API description.</noscript></div>
<script src="/v1/docs.js"></script>
</body>
</html>
"#;

pub const SCRIPT: &str = r#"'use strict';
(async () => {
  const root = document.getElementById('ops');
  const doc = await (await fetch('/v1/openapi.json')).json();
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const box = el('div', 'op');
      const head = el('div');
      head.append(el('span', 'm ' + method.toUpperCase(), method.toUpperCase()), el('code', null, path));
      box.append(head, el('p', null, op.summary || ''));
      const d = el('details'); d.append(el('summary', null, 'details'));
      d.append(el('pre', null, JSON.stringify(op, null, 2)));
      box.append(d);
      root.append(box);
    }
  }
})();
"#;
