// Helpers of the end-to-end tests: Debian's chromium through playwright-core, sign-in, axe-core, screenshots,
// and a small Node API client (dev tokens, dev-CA keys, signatures) for the members not played by a browser.
import { chromium } from 'playwright-core';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { canonicalize } from '../src/jcs.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..');
export const WEB_URL = (process.env.WEB_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const API_BASE = (process.env.E2E_API_URL || WEB_URL).replace(/\/$/, '');
export const BODY = process.env.E2E_BODY || 'chinh-phu';
export const SECRETARIAT = process.env.E2E_SECRETARIAT || 'vpcp-chuyen-vien';
export const SHOTS = path.resolve(process.env.SCREENSHOT_DIR || path.join(REPO, 'build', 'screenshots'));
export const TIMEOUT = +(process.env.E2E_TIMEOUT_MS || 15000);
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const VIEWPORTS = {
  tablet: { viewport: { width: 1024, height: 768 }, hasTouch: true },
  // The tablet sizes the console is checked at (landscape and portrait).
  tabletLandscape: { viewport: { width: 1180, height: 820 }, hasTouch: true },
  tabletPortrait: { viewport: { width: 820, height: 1180 }, hasTouch: true },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  desktop: { viewport: { width: 1280, height: 800 } },
};

export async function launch() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** A browser context with a device profile; records CSP violations and page errors for the final check. */
export async function newContext(browser, device, label) {
  const context = await browser.newContext({ ...VIEWPORTS[device], locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (msg) => {
    const t = msg.text();
    if (/Content Security Policy|Refused to/.test(t)) page.problems.push(`[${label}] CSP: ${t}`);
  });
  page.on('pageerror', (err) => page.problems.push(`[${label}] page error: ${err.message}`));
  page.label = label;
  return { context, page };
}

/** Sign in through the UI (stage local picker); optionally land on a path. */
export async function signIn(page, userId, landing = '/') {
  const next = landing !== '/' ? `?next=${encodeURIComponent(landing)}` : '';
  await page.goto(`${WEB_URL}/sign-in${next}`);
  await page.getByLabel('Mã người dùng').fill(userId);
  await page.getByRole('button', { name: 'Đăng nhập', exact: true }).click();
  await page.getByRole('button', { name: 'Đăng xuất' }).waitFor();
  await page.waitForURL((u) => u.pathname === landing.split('?')[0]);
}

/** Client-side navigation (keeps the in-memory session, unlike page.goto). */
export async function go(page, p) {
  await page.evaluate((target) => {
    history.pushState(null, '', target);
    dispatchEvent(new PopStateEvent('popstate'));
  }, p);
  await page.waitForURL((u) => u.pathname + u.search === p);
}

/** A screenshot kept in the repository's docs (docs/screens/), at the page's viewport size. */
export async function docShot(page, name) {
  const dir = path.join(REPO, 'docs', 'screens');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: false });
}

export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  // Keep screenshots out of version control without touching the repository's .gitignore.
  const ignore = path.join(path.dirname(SHOTS), '.gitignore');
  if (path.basename(path.dirname(SHOTS)) === 'build' && !fs.existsSync(ignore)) fs.writeFileSync(ignore, '*\n');
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const a11yReport = [];

/** Run axe-core (WCAG 2.1 A/AA and best practices) on the page; any violation fails the test. */
export async function axe(page, name) {
  // Evaluated through the DevTools protocol, so the page's CSP (no inline scripts) stays in force.
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }),
  );
  const bad = result.violations; // any impact: minor and moderate ones fail too
  a11yReport.push({ screen: name, violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })) });
  if (bad.length) {
    const text = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    throw new Error(`axe-core on ${name}: ${bad.length} violation(s):\n  ${text.join('\n  ')}`);
  }
}

/** Confirm in the open dialog and wait until it has closed: the browser gives the focus back to the button that
 * opened it only then, so typing before that would land on the button. */
export async function confirm(page, name) {
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name }).click();
  await dialog.waitFor({ state: 'hidden' });
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** A seed article (Vietnamese) as the dossier to upload, printed to PDF by the test's own Chromium (the API
 * accepts office formats, PDF and images, not plain text); a generated text if shared/ is not beside the repo. */
export async function seedFile(browser, name = 'du-thao-nghi-quyet.pdf') {
  const dir = path.resolve(REPO, '..', 'shared', 'seeds');
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort() : [];
  const text = files.length
    ? fs.readFileSync(path.join(dir, files[0]), 'utf8')
    : 'Dự thảo Nghị quyết phiên họp Chính phủ thường kỳ.\nĐiều 1. ...\n';
  const escaped = text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.setContent(`<html lang="vi"><body><pre style="white-space:pre-wrap;font:12pt serif">${escaped}</pre></body></html>`);
    const buffer = await page.pdf({ format: 'A4' });
    return { name, mimeType: 'application/pdf', buffer };
  } finally {
    await context.close();
  }
}

// --- Node API client (for the members not played by a browser) -----------------------------------------------
export async function call(method, p, { token, body, idem = true, headers = {} } = {}) {
  const res = await fetch(`${API_BASE}/v1${p}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(method === 'POST' && idem ? { 'Idempotency-Key': crypto.randomUUID() } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${p} → ${res.status}: ${data?.detail || text}`);
  return data;
}

const tokens = new Map();
export async function tokenFor(userId) {
  if (!tokens.has(userId)) tokens.set(userId, (await call('POST', '/dev/token', { body: { user_id: userId } })).token);
  return tokens.get(userId);
}

const keys = new Map();
/** Sign like the browser does: ES256 (r||s, base64) over RFC 8785 JSON, with a key from the dev CA. */
export async function signAs(userId, action, targetId, content) {
  if (!keys.has(userId)) {
    const { key_pem } = await call('POST', '/dev/certificates', {
      token: await tokenFor(userId), body: { user_id: userId, alg: 'ES256' },
    });
    keys.set(userId, crypto.createPrivateKey(key_pem));
  }
  const signed_at = new Date(Date.now() + 7 * 3600e3).toISOString().slice(0, 19) + '+07:00';
  const text = canonicalize({ action, body_id: BODY, target_id: targetId, user_id: userId, content, signed_at });
  const value = crypto.sign('sha256', Buffer.from(text), { key: keys.get(userId), dsaEncoding: 'ieee-p1363' }).toString('base64');
  return { alg: 'ES256', value, signed_at };
}

/** The roster seen by the secretariat: chair, voting members, an assistant and their member. */
export async function cast() {
  const token = await tokenFor(SECRETARIAT);
  const roster = (await call('GET', `/bodies/${BODY}/roster`, { token })).items;
  const voting = roster.filter((m) => ['chair', 'deputy_chair', 'member'].includes(m.role));
  const chair = roster.find((m) => m.role === 'chair');
  let assistant = roster.find((m) => m.role === 'assistant');
  const assistantId = process.env.E2E_ASSISTANT || assistant?.user_id;
  if (assistantId) {
    // The roster lists user_id, role, name and title; whom an assistant serves comes from their /me.
    assistant = await call('GET', `/bodies/${BODY}/me`, { token: await tokenFor(assistantId) });
  }
  const plain = voting.filter((m) => m.role === 'member' && m.user_id !== assistant?.assistant_of);
  return { roster, voting, chair, assistant, plain };
}
