// An inline PDF viewer (pdf.js, loaded on first use so the rest of the app stays small): the chair reviews the
// rendered resolution before signing, everyone reads the issued one. Each page is drawn on a canvas; the
// page's text is kept beside it for screen readers.
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
    let doc = null;
    setState({ loading: true, error: null, text: '', pages: 0 });
    (async () => {
      const lib = await pdfjs();
      const res = await fetch(url, { credentials: 'omit', referrerPolicy: 'no-referrer', cache: 'no-store' });
      if (!res.ok) throw new Error('Không tải được văn bản PDF.');
      const data = new Uint8Array(await res.arrayBuffer());
      doc = await lib.getDocument({ data, isEvalSupported: false }).promise;
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
        texts.push(content.items.map((i) => i.str + (i.hasEOL ? '\n' : '')).join(''));
        if (cancelled) return;
      }
      setState({ loading: false, error: null, text: texts.join('\n'), pages: doc.numPages });
    })().catch((error) => !cancelled && setState({ loading: false, error, text: '', pages: 0 }));
    return () => {
      cancelled = true;
      doc?.destroy();
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
      <div class="pdf-pages" ref={pagesRef} />
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
