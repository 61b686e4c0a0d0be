// Sign-in with OpenID Connect as outside stage local: the app reads its issuer from /config.json, sends the member
// to the issuer's login (authorisation code flow with PKCE), comes back on /auth/callback, and calls the API with
// the issuer's ID token; a reload resumes the session, an expired token is renewed with the refresh token, and
// signing out ends the session at the issuer. Run by tests/e2e/test_web.py against a local issuer
// (tools/oidc_issuer.py) with OIDC_SUB naming its predefined user.
import { assert, axe, newContext, shot, WEB_URL } from '../lib.mjs';

const SUB = process.env.OIDC_SUB;
const ISSUER = (process.env.OIDC_ISSUER || '').replace(/\/$/, '');
const MEMBER = process.env.OIDC_MEMBER || 'bo-truong-01';
const BODY = process.env.E2E_BODY || 'chinh-phu';

const stored = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem('ecabinet.oidc.tokens') || 'null'));

export async function oidcScenario(browser, _cast, _state, step) {
  assert(SUB && ISSUER, 'OIDC_SUB and OIDC_ISSUER name the local issuer and its user');
  const { page, context } = await newContext(browser, 'tablet', 'oidc');
  step('the sign-in page offers the issuer, not the development picker');
  await page.goto(`${WEB_URL}/sign-in?next=/`);
  const button = page.getByRole('button', { name: 'Đăng nhập qua cổng định danh' });
  await button.waitFor();
  assert((await page.getByLabel('Mã người dùng').count()) === 0, 'the development picker is shown beside OIDC');
  await axe(page, 'oidc-sign-in');
  await shot(page, 'oidc-sign-in');

  step('the issuer is asked for a code with a PKCE challenge');
  await button.click();
  await page.waitForURL((u) => u.href.startsWith(`${ISSUER}/oauth2/authorize`));
  const authorize = new URL(page.url());
  assert(authorize.searchParams.get('code_challenge_method') === 'S256', 'no S256 code challenge');
  assert((authorize.searchParams.get('code_challenge') || '').length >= 43, 'no code challenge');
  assert(authorize.searchParams.get('redirect_uri') === `${WEB_URL}/auth/callback`, 'wrong redirect_uri');
  assert(authorize.searchParams.get('scope').split(' ').includes('openid'), 'scope without openid');

  step('the member signs in at the issuer and comes back signed in');
  await page.getByRole('button', { name: SUB }).click();
  await page.getByRole('button', { name: 'Đăng xuất' }).waitFor();
  await page.waitForURL((u) => u.origin === WEB_URL && u.pathname === '/');
  const shown = await page.getByTestId('current-user').textContent();
  assert(/Thành viên Chính phủ/.test(shown), `the header shows ${shown}`); // the member's role, read from /me
  const tokens = await stored(page);
  assert(tokens?.id_token && tokens.refresh_token, 'no ID and refresh token kept');
  await shot(page, 'oidc-signed-in');

  step('a reload keeps the session');
  await page.reload();
  await page.getByRole('button', { name: 'Đăng xuất' }).waitFor();

  step('an expired token is renewed with the refresh token');
  await page.evaluate(() => {
    const t = JSON.parse(sessionStorage.getItem('ecabinet.oidc.tokens'));
    sessionStorage.setItem('ecabinet.oidc.tokens', JSON.stringify({ ...t, expires_at: Date.now() - 1000 }));
  });
  await page.reload();
  await page.getByRole('button', { name: 'Đăng xuất' }).waitFor();
  const renewed = await stored(page);
  assert(renewed.id_token !== tokens.id_token && renewed.expires_at > Date.now(), 'the ID token was not renewed');

  step('an authenticated API call with the issuer\'s ID token names the member by the configured claim');
  const me = await page.evaluate(async ([body]) => {
    const t = JSON.parse(sessionStorage.getItem('ecabinet.oidc.tokens'));
    const res = await fetch(`/v1/bodies/${body}/me`, { headers: { Authorization: `Bearer ${t.id_token}` } });
    return { status: res.status, json: await res.json() };
  }, [BODY]);
  assert(me.status === 200 && me.json.user_id === MEMBER, `GET /me answered ${me.status} ${JSON.stringify(me.json)}`);

  step('signing out ends the session at the issuer and comes back to the sign-in page');
  await page.getByRole('button', { name: 'Đăng xuất' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${ISSUER}/oauth2/end_session`));
  const logout = new URL(page.url());
  assert(logout.searchParams.get('id_token_hint'), 'no id_token_hint sent to the end-session endpoint');
  await page.getByRole('button', { name: 'End session' }).click();
  await page.waitForURL((u) => u.origin === WEB_URL && u.pathname === '/sign-in');
  await page.getByRole('button', { name: 'Đăng nhập qua cổng định danh' }).waitFor();
  assert((await stored(page)) === null, 'tokens are still kept after sign-out');
  await context.close();
}
