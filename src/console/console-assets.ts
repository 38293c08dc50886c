/**
 * The console's own stylesheet and script, served from memory (no build
 * step, nothing from other hosts). htmx itself is served from its npm
 * package (console-plugin.ts).
 */
export const consoleCss = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #5b636d; --line: #d5d9de; --accent: #0b5cad; --ok: #13692e; --bad: #a4161a; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --bg: #15181c; --muted: #a0a8b2; --line: #384049; --accent: #6cb0ff; --ok: #5fd08a; --bad: #ff7b7f; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: var(--bg); padding: 4px; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 8px 16px; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; }
nav ul { display: flex; flex-wrap: wrap; gap: 4px 12px; list-style: none; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: 700; text-decoration: none; color: var(--fg); }
.sign-out { margin-left: auto; }
main { padding: 8px 16px 48px; max-width: 1200px; }
main.narrow { max-width: 28rem; margin: 10vh auto; }
h1 { font-size: 1.5rem; margin: 8px 0; } h2 { font-size: 1.2rem; margin-top: 1.5em; }
.who { color: var(--muted); margin-top: 0; font-size: .9rem; }
.flash { padding: 8px 12px; border-left: 4px solid var(--ok); background: color-mix(in srgb, var(--ok) 10%, transparent); }
.flash.error { border-color: var(--bad); background: color-mix(in srgb, var(--bad) 10%, transparent); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: .95rem; }
caption { text-align: left; color: var(--muted); padding: 4px 0; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 12px; }
.card .value { font-size: 1.5rem; font-weight: 700; }
.field { display: flex; flex-direction: column; gap: 2px; margin: 6px 0; }
form.row { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: end; }
form.row .field { margin: 0; }
form.inline { display: inline; }
input, select, textarea, button { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); max-width: 100%; }
textarea { width: 100%; min-height: 6em; font-family: ui-monospace, monospace; }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
pre { white-space: pre-wrap; word-break: break-word; background: color-mix(in srgb, var(--fg) 6%, transparent); padding: 8px; border-radius: 4px; max-height: 24em; overflow: auto; }
details { margin: 4px 0; } summary { cursor: pointer; }
.timeline { list-style: none; padding: 0; } .timeline li { border-left: 3px solid var(--line); padding: 4px 10px; margin: 4px 0; }
.timeline .t-error, .timeline .t-warning { border-color: var(--bad); }
.chart { width: 100%; max-width: 720px; height: auto; } .chart rect { fill: var(--accent); } .chart text { fill: var(--muted); font-size: 10px; }
dl.cdr { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; } dl.cdr dt { color: var(--muted); } dl.cdr dd { margin: 0; }
audio { width: 100%; max-width: 480px; }
@media (max-width: 600px) { body { font-size: 15px; } th, td { padding: 4px; } header { padding: 8px; } main { padding: 8px; } }
`;

/**
 * Live views: an element with `data-live="URL"` opens a server-sent event
 * stream and takes each message as its new content (htmx then wires any
 * forms in it). The stream closes with the page.
 */
export const consoleJs = `
(function () {
  function connect(el) {
    if (el.dataset.liveOpen) return;
    el.dataset.liveOpen = '1';
    var source = new EventSource(el.dataset.live);
    source.onmessage = function (event) {
      if (!document.body.contains(el)) { source.close(); return; }
      el.innerHTML = event.data;
      if (window.htmx) window.htmx.process(el);
    };
  }
  function scan() { document.querySelectorAll('[data-live]').forEach(connect); }
  document.addEventListener('DOMContentLoaded', scan);
  document.addEventListener('htmx:load', scan);
})();
`;
