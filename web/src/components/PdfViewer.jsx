// An inline PDF viewer (pdf.js, loaded on first use so the rest of the app stays small): the chair reviews the
// rendered resolution before signing, everyone reads the issued one. Each page is drawn on a canvas; the
// page's text and its filled form fields (the stamped number and date) are kept beside it for screen readers.
import { useEffect, useRef, useState } from 'preact/hooks';

let loading = null;
async function pdfjs() {
  if (!loading) {
    loading = Promise.all([import('pdfjs-dist'), import('pdfjs-dist/build/pdf.worker.min.mjs?url')]).then(
      ([lib, worker]) => {
        lib.GlobalWorkerOptions.workerSrc = worker.default;
        return lib;
      },
    );
  }
  return loading;
}

export function PdfViewer({ url, title, testId = 'pdf-viewer' }) {
  const pagesRef = useRef(null);
  const [state, setState] = useState({ loading: true, error: null, text: '', pages: 0 });

  useEffect(() => {
    if (!url) return undefined;
    let cancelled = false;
    let task = null; // destroying the loading task frees its document and worker
    setState({ loading: true, error: null, text: '', pages: 0 });
    (async () => {
      const lib = await pdfjs();
      const res = await fetch(url, { credentials: 'omit', referrerPolicy: 'no-referrer', cache: 'no-store' });
      if (!res.ok) throw new Error('Không tải được văn bản PDF.');
      const data = new Uint8Array(await res.arrayBuffer());
      if (cancelled) return;
      task = lib.getDocument({ data, isEvalSupported: false });
      const doc = await task.promise;
      const host = pagesRef.current;
      if (cancelled || !host) return;
      host.replaceChildren();
      const texts = [];
      for (let n = 1; n <= doc.numPages; n++) {
        const page = await doc.getPage(n);
        const viewport = page.getViewport({ scale: 1.5 });
        const canvas = document.createElement('canvas');
        canvas.width = Math.floor(viewport.width);
        canvas.height = Math.floor(viewport.height);
        canvas.className = 'pdf-page';
        canvas.setAttribute('aria-hidden', 'true');
        host.appendChild(canvas);
        await page.render({ canvas, canvasContext: canvas.getContext('2d'), viewport }).promise;
        const content = await page.getTextContent();
        // Form fields filled in a later revision (the number and date stamped at issuing) are not page text.
        const fields = (await page.getAnnotations()).map((a) => a.fieldValue).filter((v) => typeof v === 'string' && v);
        const text = content.items.map((i) => i.str + (i.hasEOL ? '\n' : '')).join('');
        texts.push(fields.length ? `${text}\n${fields.join(' ')}` : text);
        if (cancelled) return;
      }
      setState({ loading: false, error: null, text: texts.join('\n'), pages: doc.numPages });
    })().catch((error) => !cancelled && setState({ loading: false, error, text: '', pages: 0 }));
    return () => {
      cancelled = true;
      task?.destroy();
    };
  }, [url]);

  return (
    <figure class="pdf-viewer" data-testid={testId} aria-busy={state.loading ? 'true' : 'false'}>
      <figcaption class="muted">
        {title}
        {state.pages ? ` · ${state.pages} trang` : ''}
        {state.loading ? ' · đang tải…' : ''}
      </figcaption>
      {state.error && <p role="alert">Không hiển thị được văn bản: {state.error.message}</p>}
      {/* Scrolled with the keyboard too (it scrolls on its own on a small screen). */}
      <div class="pdf-pages" ref={pagesRef} tabIndex={0} role="region" aria-label={`${title}: các trang`} />
      <div class="sr-only" data-testid={`${testId}-text`}>
        {state.text}
      </div>
      <p>
        <a href={url} target="_blank" rel="noopener noreferrer">
          Mở tệp PDF
        </a>
      </p>
    </figure>
  );
}
