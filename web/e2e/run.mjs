// End-to-end tests of the web app in Debian's headless chromium: `WEB_URL=http://127.0.0.1:8080 node web/e2e/run.mjs`.
// Needs the local stack (`make run`: the API with the seeded body, tools/web_server.py serving web/dist).
import fs from 'node:fs';
import path from 'node:path';
import { a11yReport, cast as loadCast, launch, SHOTS, WEB_URL } from './lib.mjs';
import { ballotScenario } from './scenarios/ballot.mjs';
import { meetingScenario } from './scenarios/meeting.mjs';
import { assistantScenario } from './scenarios/assistant.mjs';
import { screensScenario } from './scenarios/screens.mjs';
import { exchangeScenario } from './scenarios/exchange.mjs';
import { consoleScenario } from './scenarios/console.mjs';
import { oidcScenario } from './scenarios/oidc.mjs';

const only = process.env.E2E_ONLY ? new Set(process.env.E2E_ONLY.split(',')) : null;
// The OIDC sign-in needs a web server whose /config.json names an issuer (tests/e2e/test_web.py sets E2E_OIDC=1).
const oidc = process.env.E2E_OIDC === '1';
const scenarios = (oidc ? [['oidc', 'sign-in with OpenID Connect (code flow with PKCE), refresh and sign-out', oidcScenario]] : [
  ['ballot', 'a member answers a ballot with a browser-made signature', ballotScenario],
  ['meeting', 'the first meeting with three browser contexts, ending with the chair signing the resolution', meetingScenario],
  ['assistant', 'an assistant finds no vote, answer or sign button', assistantScenario],
  ['screens', 'sign-in, the secretariat desk and API problem details render accessibly', screensScenario],
  ['exchange', "a province's dossier in the Government's inbox, acknowledged", exchangeScenario],
  ['console', "the clerk's roll call of 27 members and a vote to the end with the chair", consoleScenario],
]).filter(([key]) => !only || only.has(key));

// Screenshots of a previous failed run would mislead: drop them.
fs.mkdirSync(SHOTS, { recursive: true });
for (const f of fs.readdirSync(SHOTS)) if (f.startsWith('FAILED-')) fs.rmSync(path.join(SHOTS, f));
const browser = await launch();
let passed = 0;
let failed = 0;
const state = {};
const problems = [];
try {
  const cast = await loadCast();
  for (const [key, title, fn] of scenarios) {
    const started = Date.now();
    const step = (s) => console.log(`  · ${s}`);
    console.log(`▶ ${key}: ${title}`);
    const pages = [];
    const origNewContext = browser.newContext.bind(browser);
    browser.newContext = async (...a) => {
      const c = await origNewContext(...a);
      c.on('page', (p) => pages.push(p));
      return c;
    };
    try {
      await fn(browser, cast, state, step);
      const csp = pages.flatMap((p) => p.problems || []);
      if (csp.length) throw new Error(`browser reported:\n  ${csp.join('\n  ')}`);
      passed++;
      console.log(`✔ ${key} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      problems.push(`${key}: ${e.message}`);
      console.log(`✘ ${key}: ${e.message}`);
      for (const c of browser.contexts()) {
        for (const [i, p] of c.pages().entries()) {
          await p.screenshot({ path: path.join(SHOTS, `FAILED-${key}-${p.label || i}.png`), fullPage: true }).catch(() => {});
        }
        await c.close().catch(() => {});
      }
    } finally {
      browser.newContext = origNewContext;
    }
  }
} catch (e) {
  failed++;
  console.log(`✘ setup against ${WEB_URL}: ${e.message}`);
} finally {
  await browser.close();
}
fs.mkdirSync(SHOTS, { recursive: true });
fs.writeFileSync(path.join(SHOTS, 'axe-report.json'), JSON.stringify(a11yReport, null, 2));
console.log(`screenshots and axe report: ${SHOTS}`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
