/**
 * The one HTML page `baton ui` serves for every route; the page's script draws the route it finds in
 * the address. Scripts and styles come from the server itself (`/assets/`), never from elsewhere.
 */
import { escapeXml } from './svg.js';

export function pageShell(opts: { namespace: string; address: string }): string {
  const where = `namespace ${opts.namespace} at ${opts.address}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Baton</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/app.js"></script>
</head>
<body>
<header class="top"><a class="brand" href="/">Baton</a><nav><a href="/">Runs</a></nav><span class="where">${escapeXml(where)}</span></header>
<main id="app"><noscript>This page needs JavaScript; <code>baton status &lt;run&gt;</code> shows a run without it.</noscript></main>
</body>
</html>
`;
}
