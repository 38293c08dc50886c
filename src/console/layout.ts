import { html, type HtmlValue, type SafeHtml } from './html.js';
import type { ConsoleSession } from './sessions.js';

/** The pages in the navigation, per kind of key. */
const workspaceNav: ReadonlyArray<[path: string, label: string]> = [
  ['/console', 'Overview'], ['/console/calls', 'Calls'], ['/console/numbers', 'Numbers'], ['/console/recordings', 'Recordings'],
  ['/console/wallet', 'Wallet'], ['/console/conferences', 'Conferences'], ['/console/webhooks', 'Webhooks'], ['/console/sip', 'SIP'],
  ['/console/keys', 'API keys'], ['/console/settings', 'Settings'], ['/console/sandbox', 'Sandbox'], ['/console/softphone', 'Softphone'],
];
const adminNav: ReadonlyArray<[path: string, label: string]> = [
  ['/console/admin/workspaces', 'Workspaces'], ['/console/admin/trunks', 'Trunks'], ['/console/admin/numbers', 'Number inventory'],
  ['/console/admin/rates', 'Rates'],
];

export interface PageOptions {
  title: string;
  /** The nav entry to mark as current. */
  current: string;
  session: ConsoleSession;
}

/** A whole page: `lang`, a title per page, the nav, the flash message and the CSRF token every htmx request sends. */
export function page(options: PageOptions, body: HtmlValue): SafeHtml {
  const { session } = options;
  const nav = session.kind === 'admin' ? adminNav : workspaceNav;
  const flash = session.flash;
  delete session.flash;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"historyCacheSize":0}'>
<title>${options.title} · Sautikit console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/htmx.min.js" defer></script>
<script src="/console/assets/console.js" defer></script>
</head>
<body hx-boost="true" hx-headers='${JSON.stringify({ 'x-csrf-token': session.csrf })}'>
<a class="skip" href="#main">Skip to content</a>
<header>
<span class="brand">Sautikit</span>
<nav aria-label="Console"><ul>
${nav.map(([path, label]) => html`<li><a href="${path}"${path === options.current ? html` aria-current="page"` : ''}>${label}</a></li>`)}
</ul></nav>
<form method="post" action="/console/sign-out" class="sign-out">${csrfField(session)}<button type="submit">Sign out</button></form>
</header>
<main id="main">
<h1>${options.title}</h1>
<p class="who">${session.kind === 'admin' ? 'Admin key' : 'Workspace key'} <code>#${session.keyHint}</code></p>
${flash ? html`<p class="flash ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}">${flash.text}</p>` : ''}
${body}
</main>
</body>
</html>`;
}

/** The hidden CSRF field of every form. */
export function csrfField(session: ConsoleSession): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
}

/** A small form with one button that POSTs to `action` (mute, retry, release, …). */
export function actionButton(session: ConsoleSession, action: string, label: string, fields: Record<string, string> = {}, confirm?: string): SafeHtml {
  return html`<form method="post" action="${action}" class="inline"${confirm ? html` hx-confirm="${confirm}"` : ''}>${csrfField(session)}${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit">${label}</button></form>`;
}

/** A table with a header row; rows are already rendered `<tr>`s. */
export function table(caption: string, headers: readonly string[], rows: readonly SafeHtml[], empty = 'Nothing yet.', bodyAttributes: SafeHtml = html``): SafeHtml {
  return html`<div class="scroll"><table><caption>${caption}</caption><thead><tr>${headers.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody ${bodyAttributes}>${rows.length ? rows : html`<tr><td colspan="${headers.length}">${empty}</td></tr>`}</tbody></table></div>`;
}

/** A labelled input (every input has a label). */
export function field(label: string, name: string, value: string | null | undefined = '', attributes: SafeHtml = html``): SafeHtml {
  const id = `f-${name}`;
  return html`<p class="field"><label for="${id}">${label}</label><input id="${id}" name="${name}" value="${value ?? ''}" ${attributes}></p>`;
}

/** The sign-in page (no session yet). */
export function signInPage(error?: string): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Sautikit console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/console.css">
</head>
<body>
<main id="main" class="narrow">
<h1>Sautikit console</h1>
<p>Sign in with a workspace API key, or with the admin key to manage workspaces, trunks, numbers and rates.</p>
${error ? html`<p class="flash error" role="alert">${error}</p>` : ''}
<form method="post" action="/console/sign-in">
<p class="field"><label for="key">API key</label><input id="key" name="key" type="password" autocomplete="current-password" required autofocus></p>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>`;
}
