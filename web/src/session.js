// The signed-in session kept across reloads: the bearer token and who it is for, in sessionStorage (this tab
// only, gone when the tab closes), never past the token's own expiry. Sign-in code (dev token or OIDC) calls
// saveSession after obtaining a token and again after each refresh; the app shell calls restoreSession at start.
const KEY = 'ecabinet.session';

/** The `exp` claim (seconds since the epoch) of a JWT, or null when it cannot be read. */
export function tokenExpiry(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    return typeof claims.exp === 'number' ? claims.exp : null;
  } catch {
    return null;
  }
}

/** Keep the token for its lifetime. `extra` holds what the sign-in needs again (e.g. a refresh token). */
export function saveSession({ token, userId, stageLocal = false, extra = null }) {
  const exp = tokenExpiry(token);
  if (!exp) return; // a token without an expiry is not kept: the next reload asks to sign in
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ token, userId, stageLocal, exp, extra }));
  } catch {
    /* storage refused (private mode): the session lives in memory only */
  }
}

/** The stored session if its token is still valid for at least `marginSeconds`; otherwise nothing (and it is dropped). */
export function restoreSession({ marginSeconds = 30, now = Date.now() } = {}) {
  let s = null;
  try {
    s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
  } catch {
    s = null;
  }
  if (!s || typeof s.token !== 'string' || typeof s.exp !== 'number') return null;
  if (s.exp * 1000 - marginSeconds * 1000 <= now) {
    clearSession();
    return null;
  }
  return s;
}

export function clearSession() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* nothing stored */
  }
}
