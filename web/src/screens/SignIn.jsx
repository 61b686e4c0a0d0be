// Sign-in: with /config.json naming an OIDC issuer, the issuer's login (code flow with PKCE, oidc.js), also back
// from it on /auth/callback and resumed after a reload; without it (stage local) a picker of seeded users (dev token).
import { useEffect, useState } from 'preact/hooks';
import { api, setToken } from '../api.js';
import { beginSignIn, completeSignIn, installRefresher, loadConfig, resume } from '../oidc.js';
import { DEV_USERS, SIGNING_ROLES } from '../config.js';
import { prepareKey } from '../signing.js';
import { loadSession } from '../app.jsx';
import { saveSession } from '../session.js';
import { Problem, PageTitle, Notice } from '../components/ui.jsx';

export function SignIn({ onSignedIn, expired }) {
  const [userId, setUserId] = useState('');
  const suggestions = DEV_USERS;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [noDevStage, setNoDevStage] = useState(false);
  const [oidc, setOidc] = useState(undefined); // undefined: reading /config.json; null: development sign-in

  useEffect(() => {
    let live = true;
    (async () => {
      const config = await loadConfig();
      if (!live) return;
      setOidc(config);
      if (!config) return;
      installRefresher(config);
      setBusy(true);
      try {
        let userId = null;
        if (location.pathname === config.redirect_path) {
          const done = await completeSignIn(config);
          userId = done.userId;
          const back = done.next && done.next !== '/' ? `?next=${encodeURIComponent(done.next)}` : '';
          history.replaceState(null, '', `/sign-in${back}`);
        } else {
          userId = await resume(config);
        }
        if (userId && live) onSignedIn(await loadSession(userId, false));
      } catch (e) {
        setToken(null);
        if (live) setError(e instanceof Error && !e.status ? { detail: e.message } : e);
      } finally {
        if (live) setBusy(false);
      }
    })();
    return () => {
      live = false;
    };
  }, []);

  const signInWithIssuer = async () => {
    setBusy(true);
    setError(null);
    try {
      const next = new URLSearchParams(location.search).get('next') || '/';
      await beginSignIn(oidc, next.startsWith('/') && !next.startsWith('//') ? next : '/');
    } catch (e) {
      setError({ detail: e.message });
      setBusy(false);
    }
  };

  if (oidc === undefined) {
    return (
      <div class="signin">
        <PageTitle sub="Hệ thống thông tin phục vụ họp và xử lý công việc của Chính phủ">Đăng nhập</PageTitle>
      </div>
    );
  }
  if (oidc) {
    return (
      <div class="signin">
        <PageTitle sub="Hệ thống thông tin phục vụ họp và xử lý công việc của Chính phủ">Đăng nhập</PageTitle>
        {expired && <Notice kind="warning">Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.</Notice>}
        <section class="card">
          <h2>Đăng nhập bằng tài khoản công vụ</h2>
          <p>Bạn sẽ được chuyển tới cổng định danh để đăng nhập (mật khẩu và mã xác thực hai lớp), rồi trở lại đây.</p>
          <Problem error={error} />
          <button type="button" class="btn btn-primary btn-block" disabled={busy} onClick={signInWithIssuer}>
            {busy ? 'Đang đăng nhập…' : 'Đăng nhập qua cổng định danh'}
          </button>
        </section>
      </div>
    );
  }

  const signIn = async (id) => {
    const uid = (id ?? userId).trim();
    if (!uid) {
      setError({ detail: 'Vui lòng nhập hoặc chọn mã người dùng.' });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { token } = await api('/dev/token', { method: 'POST', body: { user_id: uid }, auth: false });
      setToken(token);
      const session = await loadSession(uid, true);
      saveSession({ token, userId: uid, stageLocal: true });
      if (SIGNING_ROLES.has(session.me.role)) {
        // Fetch this session's signing key from the development CA in the background.
        prepareKey(uid, { stageLocal: true }).catch(() => {});
      }
      onSignedIn(session);
    } catch (e) {
      setToken(null);
      if (e.status === 404) setNoDevStage(true);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="signin">
      <PageTitle sub="Hệ thống thông tin phục vụ họp và xử lý công việc của Chính phủ">Đăng nhập</PageTitle>
      {expired && <Notice kind="warning">Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.</Notice>}
      {noDevStage ? (
        <section class="card">
          <h2>Đăng nhập bằng tài khoản công vụ</h2>
          <p>Môi trường này dùng cổng định danh (OIDC). Vui lòng đăng nhập qua cổng định danh của cơ quan.</p>
        </section>
      ) : null}
      <section class="card">
        <h2>Môi trường thử nghiệm (local)</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            signIn();
          }}
        >
          <div class="field">
            <label for="user-id">Mã người dùng</label>
            <input
              id="user-id"
              name="user_id"
              list="user-suggestions"
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              value={userId}
              onInput={(e) => setUserId(e.currentTarget.value)}
              aria-describedby="user-id-hint"
            />
            <datalist id="user-suggestions">
              {suggestions.map((u) => (
                <option key={u.user_id} value={u.user_id}>
                  {u.label}
                </option>
              ))}
            </datalist>
            <p id="user-id-hint" class="hint">
              Nhập mã người dùng đã có trong danh sách thành viên, hoặc chọn nhanh bên dưới.
            </p>
          </div>
          <Problem error={error} />
          <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Đang đăng nhập…' : 'Đăng nhập'}
          </button>
        </form>
        <h3 class="quick-h">Chọn nhanh</h3>
        <ul class="quick-users">
          {suggestions
            .filter((u) => !/^bo-truong-(0[2-9]|1\d|2\d)$/.test(u.user_id))
            .map((u) => (
              <li key={u.user_id}>
                <button type="button" class="btn btn-ghost" disabled={busy} onClick={() => signIn(u.user_id)}>
                  <span>{u.label}</span>
                  <code>{u.user_id}</code>
                </button>
              </li>
            ))}
        </ul>
      </section>
    </div>
  );
}
