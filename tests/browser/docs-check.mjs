// Loads the API docs (Swagger UI at /docs) in headless Chromium the way a
// frontend developer meets them, and checks that they work:
//
//   1. /docs (no slash) follows its redirect and renders the document, with
//      no Swagger UI error box and no script error;
//   2. every tag of /openapi.json, every operation (method + path, under
//      each of its tags) and every webhook is listed on the page;
//   3. "Try it out" → "Execute" on GET /healthz shows 200 and "ok";
//   4. a user signed up and in over plain fetch is entered in "Authorize"
//      (bearer_auth), and "Try it out" → "Execute" on GET /v1/me shows 200
//      and the user's e-mail.
//
// Screenshots go to target/docs-check/ at the repository root: docs.png
// (the page as loaded, full page), me.png (full page after GET /v1/me ran),
// me-operation.png (just the GET /v1/me block) and, when a step fails,
// failure.png.
//
// Usage: API_BASE_URL=http://127.0.0.1:8080 node docs-check.mjs
// Optional: CHROMIUM_PATH (default /usr/bin/chromium), DOCS_CHECK_OUT (the
// screenshot folder).
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const started = Date.now();
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const out = resolve(process.env.DOCS_CHECK_OUT ?? join(root, 'target', 'docs-check'));
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const base = (process.env.API_BASE_URL ?? '').replace(/\/+$/, '');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const TIMEOUT = 15_000;

const failures = [];
const fail = (message) => failures.push(message);
const shown = (file) => (relative(root, file).startsWith('..') ? file : relative(root, file));

function finish() {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (failures.length) {
    console.error(`docs-check: FAILED after ${seconds} s (${base}/docs):`);
    for (const f of failures) console.error(`  - ${f.replaceAll('\n', '\n    ')}`);
    process.exit(1);
  }
  console.log(summary(seconds));
  process.exit(0);
}
let summary = () => '';

if (!/^https?:\/\/[^/]+/.test(base)) {
  fail('set API_BASE_URL to the server, e.g. API_BASE_URL=http://127.0.0.1:8080');
  finish();
}

// --- the document, as the page will load it ---------------------------------
async function getJson(path, init) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${init?.method ?? 'GET'} ${path} did not answer JSON: ${text.slice(0, 300)}`);
  }
}

let doc;
try {
  doc = await getJson('/openapi.json');
} catch (e) {
  fail(`cannot read the OpenAPI document at ${base}/openapi.json: ${e.message}${e.cause ? ` (${e.cause.code ?? e.cause.message})` : ''}`);
  finish();
}

const operations = []; // { method, path, operationId, tags }
for (const [path, item] of Object.entries(doc.paths ?? {})) {
  for (const method of METHODS) {
    const op = item?.[method];
    if (op) operations.push({ method, path, operationId: op.operationId, tags: op.tags?.length ? op.tags : ['default'] });
  }
}
const webhooks = []; // { method, name, operationId }
for (const [name, item] of Object.entries(doc.webhooks ?? {})) {
  for (const method of METHODS) {
    const op = item?.[method];
    if (op) webhooks.push({ method, name, operationId: op.operationId });
  }
}
const tags = [...new Set([...(doc.tags ?? []).map((t) => t.name), ...operations.flatMap((o) => o.tags)])];
const label = (o) => `${o.method.toUpperCase()} ${o.path}${o.operationId ? ` (${o.operationId})` : ''}`;

await mkdir(out, { recursive: true });

// --- the browser --------------------------------------------------------------
let browser;
try {
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
} catch (e) {
  fail(`cannot start Chromium at ${executablePath} (set CHROMIUM_PATH?): ${e.message.split('\n')[0]}`);
  finish();
}

const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(TIMEOUT);
const pageErrors = [];
const badAssets = [];
const consoleLines = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
page.on('response', (r) => {
  // The page's own files (script, style, images, the document); API calls
  // made by "Execute" are checked where they are made.
  const type = r.request().resourceType();
  if (r.status() >= 400 && !['fetch', 'xhr'].includes(type)) badAssets.push(`${r.status()} ${type} ${r.url()}`);
});
page.on('requestfailed', (r) => {
  if (!['fetch', 'xhr'].includes(r.resourceType())) badAssets.push(`${r.failure()?.errorText ?? 'failed'} ${r.resourceType()} ${r.url()}`);
});

async function failureShot() {
  try {
    await page.screenshot({ path: join(out, 'failure.png'), fullPage: true });
    return ` (screenshot: ${shown(join(out, 'failure.png'))})`;
  } catch {
    return '';
  }
}

async function step(name, body) {
  try {
    await body();
    return true;
  } catch (e) {
    fail(`${name}: ${e.message.split('\n=====')[0].trim()}${await failureShot()}`);
    return false;
  }
}

// The block of one operation: `.opblock-<method>` whose summary path carries
// data-path (a path, or a webhook's name). An operation with several tags
// is shown once per tag; the first will do.
const opblock = (method, path) =>
  page
    .locator(`.opblock.opblock-${method}`)
    .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) })
    .first();

// "Try it out" → "Execute" on one operation; answers the rendered status,
// body and curl command of the live response.
async function tryItOut(method, path) {
  const block = opblock(method, path);
  if ((await block.count()) === 0) throw new Error(`${method.toUpperCase()} ${path} is not on the page`);
  await block.scrollIntoViewIfNeeded();
  if ((await block.locator('.opblock-summary-control').getAttribute('aria-expanded')) !== 'true') {
    await block.locator('.opblock-summary-control').click();
  }
  await block.locator('button.try-out__btn', { hasText: 'Try it out' }).click();
  await block.locator('button.execute').click();
  const row = block.locator('.live-responses-table tbody tr.response').first();
  await row.waitFor({ timeout: TIMEOUT });
  // The status cell reads "200", or "500" and "Undocumented" on a second line.
  const status = (await row.locator('.response-col_status').innerText()).trim().split(/\s+/)[0];
  const bodies = row.locator('.response-col_description .highlight-code pre');
  const body = (await bodies.count()) ? await bodies.first().innerText() : await row.innerText();
  const curl = (await block.locator('.curl-command').count()) ? await block.locator('.curl-command').innerText() : '';
  return { block, status, body, curl };
}

// 1. /docs, following its redirect.
const docsUrl = `${base}/docs`;
await step(`open ${docsUrl}`, async () => {
  const res = await page.goto(docsUrl, { waitUntil: 'load', timeout: 30_000 });
  if (!res) throw new Error('no response');
  if (!res.ok()) throw new Error(`answered ${res.status()} at ${res.url()}`);
  const hops = [];
  for (let r = res.request().redirectedFrom(); r; r = r.redirectedFrom()) hops.unshift(r.url());
  if (!hops.length) throw new Error(`expected a redirect from ${docsUrl} to ${docsUrl}/, landed on ${page.url()} without one`);
  if (new URL(page.url()).pathname !== '/docs/') throw new Error(`redirected to ${page.url()}, expected ${docsUrl}/`);
  // Either the operations render, or Swagger UI says why not.
  await page
    .locator('.opblock, .errors-wrapper, .loading-container .errors, .swagger-ui .info .title')
    .first()
    .waitFor({ timeout: 30_000 });
  await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
  await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
});

if (failures.length === 0) {
  // Swagger UI's own error box (resolver errors, parse errors, failed fetch).
  const errorsBox = page.locator('.errors-wrapper');
  if (await errorsBox.count()) fail(`Swagger UI shows errors:\n${(await errorsBox.first().innerText()).trim()}`);
  const title = (await page.locator('.information-container .info .title').first().innerText().catch(() => '')).trim();
  if (!title.includes(doc.info?.title ?? '')) fail(`the page title block reads "${title}", expected "${doc.info?.title}"`);

  await page.screenshot({ path: join(out, 'docs.png'), fullPage: true });

  // 2. Tags, operations and webhooks on the page, read from the DOM.
  const dom = await page.evaluate(() => ({
    tags: [...document.querySelectorAll('.opblock-tag-section > .opblock-tag[data-tag]')].map((h) => ({
      name: h.getAttribute('data-tag'),
      open: h.getAttribute('data-is-open') === 'true',
    })),
    blocks: [...document.querySelectorAll('.opblock')].map((b) => ({
      method: b.querySelector('.opblock-summary-method')?.textContent.trim().toLowerCase(),
      path: b.querySelector('.opblock-summary-path, .opblock-summary-path__deprecated')?.getAttribute('data-path'),
      operationId: b.querySelector('.opblock-summary-operation-id')?.textContent.trim() ?? null,
      id: b.id,
      tag: b.closest('.opblock-tag-section')?.querySelector(':scope > .opblock-tag')?.getAttribute('data-tag') ?? null,
      webhook: !!b.closest('.webhooks'),
    })),
  }));
  const pageTags = new Set(dom.tags.map((t) => t.name));
  const missingTags = tags.filter((t) => !pageTags.has(t));
  if (missingTags.length) fail(`${missingTags.length} tag(s) of the document not on the page: ${missingTags.join(', ')}`);
  const closed = dom.tags.filter((t) => !t.open).map((t) => t.name);
  if (closed.length) fail(`tag section(s) collapsed, their operations not listed: ${closed.join(', ')}`);

  const onPage = new Set(dom.blocks.filter((b) => !b.webhook).map((b) => `${b.tag} ${b.method} ${b.path}`));
  const anywhere = new Set(dom.blocks.filter((b) => !b.webhook).map((b) => `${b.method} ${b.path}`));
  const missingOps = operations.filter((o) => !anywhere.has(`${o.method} ${o.path}`));
  if (missingOps.length) fail(`${missingOps.length} operation(s) not on the page:\n${missingOps.map(label).join('\n')}`);
  const misfiled = operations
    .filter((o) => anywhere.has(`${o.method} ${o.path}`))
    .flatMap((o) => o.tags.filter((t) => !onPage.has(`${t} ${o.method} ${o.path}`)).map((t) => `${label(o)} under "${t}"`));
  if (misfiled.length) fail(`${misfiled.length} operation(s) missing under one of their tags:\n${misfiled.join('\n')}`);
  // When displayOperationId is on, the ids shown must be the document's.
  const shownIds = dom.blocks.filter((b) => b.operationId !== null);
  if (shownIds.length) {
    const ids = new Set(shownIds.map((b) => b.operationId));
    const missingIds = operations.filter((o) => o.operationId && !ids.has(o.operationId));
    if (missingIds.length) fail(`operation id(s) not shown: ${missingIds.map(label).join(', ')}`);
  }
  const hooks = new Set(dom.blocks.filter((b) => b.webhook).map((b) => `${b.method} ${b.path}`));
  const missingHooks = webhooks.filter((w) => !hooks.has(`${w.method} ${w.name}`));
  if (missingHooks.length) {
    fail(`${missingHooks.length} webhook(s) not on the page: ${missingHooks.map((w) => `${w.method.toUpperCase()} ${w.name}`).join(', ')}`);
  }
  const known = new Set(operations.map((o) => `${o.method} ${o.path}`));
  const extra = dom.blocks.filter((b) => !b.webhook && !known.has(`${b.method} ${b.path}`));
  if (extra.length) fail(`operation(s) on the page but not in /openapi.json: ${extra.map((b) => `${b.method} ${b.path}`).join(', ')}`);

  // 3. GET /healthz, from the UI.
  await step('Try it out on GET /healthz', async () => {
    const { status, body } = await tryItOut('get', '/healthz');
    if (status !== '200') throw new Error(`the UI shows status ${status}, expected 200; body:\n${body.slice(0, 500)}`);
    if (!body.includes('"ok"')) throw new Error(`the UI's response body does not contain "ok":\n${body.slice(0, 500)}`);
  });

  // 4. Sign up and in over plain fetch, then Authorize and GET /v1/me.
  await step('Authorize (bearer_auth) and Try it out on GET /v1/me', async () => {
    const email = `docs-check-${Date.now()}-${process.pid}@example.org`;
    const password = 'docs check password 2026';
    const json = { 'Content-Type': 'application/json' };
    await getJson('/v1/auth/register', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email, password, display_name: 'Docs Check' }),
    });
    const login = await getJson('/v1/auth/login', { method: 'POST', headers: json, body: JSON.stringify({ email, password }) });
    if (typeof login.access_token !== 'string') throw new Error(`POST /v1/auth/login answered no access_token: ${JSON.stringify(login).slice(0, 300)}`);

    await page.locator('.auth-wrapper button.authorize').first().click();
    const modal = page.locator('.modal-ux');
    await modal.waitFor();
    const bearer = modal.locator('.auth-container').filter({ has: page.locator('h4', { hasText: 'bearer_auth' }) });
    if ((await bearer.count()) === 0) {
      const offered = (await modal.locator('.auth-container h4').allInnerTexts()).join(', ');
      throw new Error(`the Authorize dialog has no bearer_auth field (it offers: ${offered})`);
    }
    await bearer.locator('input').first().fill(login.access_token);
    await bearer.locator('button.authorize').click();
    // Authorized: the field turns into a "Logout" button.
    await bearer.locator('button', { hasText: 'Logout' }).waitFor();
    await modal.locator('button.close-modal').click();
    await modal.waitFor({ state: 'detached' });

    const { block, status, body, curl } = await tryItOut('get', '/v1/me');
    await page.screenshot({ path: join(out, 'me.png'), fullPage: true });
    await block.screenshot({ path: join(out, 'me-operation.png') });
    if (!/authorization: bearer /i.test(curl)) throw new Error(`the request sent has no bearer token; curl shown:\n${curl}`);
    if (status !== '200') throw new Error(`the UI shows status ${status}, expected 200; body:\n${body.slice(0, 500)}`);
    if (!body.toLowerCase().includes(email)) throw new Error(`the UI's response body does not show ${email}:\n${body.slice(0, 500)}`);
  });
}

if (pageErrors.length) fail(`script error(s) on the page:\n${pageErrors.join('\n')}`);
if (badAssets.length) fail(`the page's own files failed to load:\n${[...new Set(badAssets)].join('\n')}`);
if (failures.length && consoleLines.length) {
  fail(`(for diagnosis) browser console:\n${consoleLines.slice(-20).join('\n')}`);
}
const version = browser.version();
await browser.close();

summary = (seconds) =>
  `docs-check passed in ${seconds} s: ${tags.length} tags, ${operations.length} operations and ` +
  `${webhooks.length} webhooks listed; GET /healthz and GET /v1/me (authorized) executed from the UI ` +
  `(Chromium ${version}, screenshots in ${shown(out)})`;
finish();
