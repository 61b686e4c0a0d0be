// The app shell: session in memory, navigation by role, routes.
import { useEffect, useState } from 'preact/hooks';
import { api, bodyPath, onUnauthenticated, setToken } from './api.js';
import { docCache } from './idb.js';
import { Link, match, navigate, useLocation } from './router.jsx';
import { ROLE_LABELS } from './format.js';
import { SessionContext } from './components/ui.jsx';
import { SignIn } from './screens/SignIn.jsx';
import { MyWork } from './screens/MyWork.jsx';
import { BallotScreen } from './screens/Ballot.jsx';
import { MeetingRoom } from './screens/MeetingRoom.jsx';
import { ResolutionScreen } from './screens/Resolution.jsx';
import { RegisterScreen } from './screens/Register.jsx';
import { SecretariatHome, BallotForm, MeetingForm, UploadScreen } from './screens/Secretariat.jsx';
import { ReportsScreen } from './screens/Reports.jsx';
import { revokeAllObjectUrls } from './documents.js';
import { ExchangeScreen, InboxBadge } from './screens/Exchange.jsx';
import { clearSession, restoreSession } from './session.js';
import { resumeDevStage } from './signing.js';
import { OfflineBanner } from './components/OfflineBanner.jsx';
import { BallotEdit } from './screens/BallotEdit.jsx';
import { endSession, forget as forgetOidcTokens } from './oidc.js';

const ROUTES = [
  ['/', MyWork],
  ['/ballots/:ballotId', BallotScreen],
  ['/meetings/:meetingId', MeetingRoom],
  ['/resolutions', RegisterScreen, 'reports'],
  ['/resolutions/:resolutionId', ResolutionScreen],
  ['/secretariat', SecretariatHome, 'secretariat'],
  ['/secretariat/ballots/new', BallotForm, 'secretariat'],
  ['/secretariat/ballots/:ballotId/edit', BallotEdit, 'secretariat'],
  ['/secretariat/meetings/new', MeetingForm, 'secretariat'],
  ['/secretariat/documents', UploadScreen, 'secretariat'],
  ['/reports', ReportsScreen, 'reports'],
  ['/exchange', ExchangeScreen, 'exchange'],
];

const canSee = (need, role) =>
  !need ||
  (need === 'secretariat' && (role === 'secretariat' || role === 'platform_admin')) ||
  (need === 'reports' && ['secretariat', 'chair', 'deputy_chair', 'platform_admin'].includes(role)) ||
  (need === 'exchange' && ['secretariat', 'chair', 'platform_admin'].includes(role));

export function App() {
  const [session, setSession] = useState(null);
  const [expired, setExpired] = useState(false);
  // A session kept from before a reload is restored before anything asks to sign in.
  const [restoring, setRestoring] = useState(() => restoreSession() !== null);
  const path = useLocation();

  useEffect(() => {
    const kept = restoreSession();
    if (!kept) return undefined;
    setToken(kept.token);
    resumeDevStage(kept);
    let timer;
    const attempt = () =>
      loadSession(kept.userId, kept.stageLocal).then(
        (s) => (setSession(s), setRestoring(false)),
        (e) => {
          // Offline (the app shell came from the service worker): keep the session and try again.
          if (e.status === 0) timer = setTimeout(attempt, 3000);
          else (setToken(null), clearSession(), setRestoring(false));
        },
      );
    attempt();
    return () => clearTimeout(timer);
  }, []);

  const signOut = async ({ reason } = {}) => {
    clearSession();
    setToken(null);
    setSession(null);
    revokeAllObjectUrls();
    await docCache.wipe();
    setExpired(reason === 'expired');
    // Signed in with OIDC: a sign-out also ends the issuer's session (its logout page brings the user back).
    if (reason === 'expired') forgetOidcTokens();
    else if (await endSession()) return;
    navigate('/sign-in', { replace: true });
  };

  useEffect(() => onUnauthenticated(() => signOut({ reason: 'expired' })), []);

  useEffect(() => {
    if (!session && !restoring && !path.startsWith('/sign-in') && !path.startsWith('/auth/callback')) {
      const back = path !== '/' ? `?next=${encodeURIComponent(path)}` : '';
      navigate(`/sign-in${back}`, { replace: true });
    }
  }, [session, path, restoring]);

  const onSignedIn = (s) => {
    setExpired(false);
    setSession(s);
    const next = new URLSearchParams(location.search).get('next');
    navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
  };

  if (restoring && !session) {
    return (
      <Shell>
        <p class="loading" role="status">
          Đang khôi phục phiên làm việc…
        </p>
      </Shell>
    );
  }

  if (!session || path.startsWith('/sign-in')) {
    return (
      <Shell>
        <SignIn onSignedIn={onSignedIn} expired={expired} />
      </Shell>
    );
  }

  const role = session.me.role;
  let screen = null;
  for (const [pattern, Component, need] of ROUTES) {
    const params = match(pattern, path);
    if (params && canSee(need, role)) {
      screen = <Component key={path} {...params} />;
      break;
    }
  }

  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} onSignOut={() => signOut()} path={path}>
        {screen || (
          <section>
            <h1>Không tìm thấy trang</h1>
            <p>
              <Link href="/">Về trang Việc của tôi</Link>
            </p>
          </section>
        )}
      </Shell>
    </SessionContext.Provider>
  );
}

function Shell({ session, onSignOut, path = '', children }) {
  const role = session?.me?.role;
  const nav = session
    ? [
        ['/', 'Việc của tôi'],
        ...(canSee('secretariat', role) ? [['/secretariat', 'Văn phòng']] : []),
        ...(canSee('reports', role) ? [['/reports', 'Báo cáo']] : []),
        ...(canSee('exchange', role) ? [['/exchange', <>Liên thông <InboxBadge /></>]] : []),
        ['/resolutions', 'Sổ nghị quyết'],
      ]
    : [];
  return (
    <>
      <a class="skip-link" href="#main">
        Bỏ qua, tới nội dung chính
      </a>
      <header class="topbar">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true">
            ★
          </span>
          <span>
            <strong>e-Cabinet</strong>
            <span class="brand-sub">Chính phủ điện tử</span>
          </span>
        </div>
        {session && (
          <nav aria-label="Điều hướng chính">
            <ul>
              {nav.map(([href, label]) => (
                <li key={href}>
                  <Link
                    href={href}
                    aria-current={(href === '/' ? path === '/' : path.startsWith(href)) ? 'page' : undefined}
                  >
                    {label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {session && (
          <div class="user">
            <span class="user-name" data-testid="current-user">
              {session.me.name || session.userId}
              <span class="user-role">{ROLE_LABELS[role] || role}</span>
            </span>
            <button type="button" class="btn btn-small" onClick={onSignOut}>
              Đăng xuất
            </button>
          </div>
        )}
      </header>
      {session?.me?.role === 'assistant' && (
        <aside class="assistant-banner" aria-label="Chế độ trợ lý">
          Bạn đang xem công việc của{' '}
          <strong>{session.member?.name || session.me.assistant_of || 'thành viên'}</strong> với vai trò trợ lý: chỉ
          xem, không trả lời phiếu, biểu quyết hay ký thay.
        </aside>
      )}
      <OfflineBanner />
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

/** Build the session after a token was obtained: who am I in the body, and whom I assist. */
export async function loadSession(userId, stageLocal) {
  let me;
  try {
    me = await api(bodyPath('/me'));
  } catch (e) {
    if (e.status === 404 && userId === 'platform-admin') {
      me = { user_id: userId, role: 'platform_admin', name: 'Quản trị nền tảng' };
    } else throw e;
  }
  let member = null;
  if (me.role === 'assistant' && me.assistant_of) {
    try {
      const roster = await api(bodyPath('/roster'));
      member = (roster.items || []).find((m) => m.user_id === me.assistant_of) || null;
    } catch {
      /* the banner falls back to the id */
    }
  }
  return { userId, me, member, stageLocal };
}
