// Shared UI pieces: async loading, problem alerts, confirm dialog, receipts, page headings.
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { fmtDateTime } from '../format.js';

export const SessionContext = createContext(null);
export const useSession = () => useContext(SessionContext);

/** Load data with a function; returns {data, error, loading, reload, setData}. */
export function useAsync(fn, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const seq = useRef(0);
  const reload = useCallback(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    return Promise.resolve()
      .then(fn)
      .then(
        (data) => n === seq.current && setState({ data, error: null, loading: false }),
        (error) => n === seq.current && setState((s) => ({ data: s.data, error, loading: false })),
      );
  }, deps);
  useEffect(() => {
    reload();
  }, [reload]);
  const setData = (data) => setState((s) => ({ ...s, data: typeof data === 'function' ? data(s.data) : data }));
  return { ...state, reload, setData };
}

/** Show an API problem's Vietnamese `detail`. */
export function Problem({ error, onDismiss }) {
  if (!error) return null;
  const text = error.detail || error.message || 'Đã có lỗi xảy ra.';
  return (
    <div class="alert alert-error" role="alert">
      <span>{text}</span>
      {onDismiss && (
        <button type="button" class="btn-link" onClick={onDismiss}>
          Đóng
        </button>
      )}
    </div>
  );
}

export function Notice({ children, kind = 'info' }) {
  return (
    <div class={`alert alert-${kind}`} role="status">
      {children}
    </div>
  );
}

export function Loading({ label = 'Đang tải…' }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      {label}
    </p>
  );
}

/** Page heading that takes focus on navigation so screen readers announce the new page. */
export function PageTitle({ children, sub }) {
  const ref = useRef(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, []);
  return (
    <header class="page-title">
      <h1 tabIndex={-1} ref={ref}>
        {children}
      </h1>
      {sub && <p class="muted">{sub}</p>}
    </header>
  );
}

/** A modal confirmation using the native <dialog> (focus trap and Escape handled by the browser). */
export function ConfirmDialog({
  open, title, children, confirmLabel, busy, onConfirm, onCancel, error,
  busyLabel = 'Đang ký và gửi…', danger = false, confirmDisabled = false, cancelLabel = 'Hủy',
}) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="dialog-title"
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onCancel();
      }}
    >
      {open && (
        <div>
          <h2 id="dialog-title">{title}</h2>
          <div class="dialog-body">{children}</div>
          <Problem error={error} />
          <div class="actions">
            <button type="button" class="btn" onClick={onCancel} disabled={busy} autofocus={danger}>
              {cancelLabel}
            </button>
            <button
              type="button"
              class={`btn ${danger ? 'btn-danger' : 'btn-primary'}`}
              onClick={onConfirm}
              disabled={busy || confirmDisabled}
              autofocus={!danger}
            >
              {busy ? busyLabel : confirmLabel}
            </button>
          </div>
        </div>
      )}
    </dialog>
  );
}

/** Proof that a signed action was accepted. */
export function Receipt({ title = 'Biên nhận', receipt, signedAt, extra }) {
  return (
    <section class="receipt" aria-label={title} role="status">
      <h3>✓ {title}</h3>
      {extra}
      {signedAt && (
        <p>
          Ký lúc: <time dateTime={signedAt}>{fmtDateTime(signedAt)}</time>
        </p>
      )}
      {receipt && (
        <p>
          Mã biên nhận: <code class="hash" data-testid="receipt">{receipt}</code>
        </p>
      )}
    </section>
  );
}

export function Badge({ children, kind = 'neutral' }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}

/** Repeatedly call fn every `ms` while mounted and the page is visible. */
export function useInterval(fn, ms, enabled = true) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!enabled) return undefined;
    let stopped = false;
    let timer;
    const tick = async () => {
      if (stopped) return;
      if (document.visibilityState !== 'hidden') {
        try {
          await saved.current();
        } catch {
          /* the screen shows its own error state */
        }
      }
      if (!stopped) timer = setTimeout(tick, ms);
    };
    timer = setTimeout(tick, ms);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [ms, enabled]);
}

/**
 * An irreversible action behind a confirmation naming its consequence: `run` is called only after the user
 * confirms in the dialog. Returns [ask, dialog]: call ask() from the button, render dialog.
 */
export function useConfirm({ title, confirmLabel, busyLabel = 'Đang thực hiện…', run, danger = true }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [body, setBody] = useState(null);
  const ask = (content = null) => {
    setError(null);
    setBody(content);
    setOpen(true);
  };
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await run();
      setOpen(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const dialog = (children) => (
    <ConfirmDialog
      open={open}
      title={title}
      confirmLabel={confirmLabel}
      busyLabel={busyLabel}
      busy={busy}
      error={error}
      danger={danger}
      onConfirm={confirm}
      onCancel={() => setOpen(false)}
    >
      {children ?? body}
    </ConfirmDialog>
  );
  return [ask, dialog];
}
