// Small SVG charts (no inline styles: geometry is given by attributes, colours by CSS classes).
import { RULE_LABELS } from '../format.js';

/** One labelled horizontal bar inside a <dl class="bars">. */
export function BarRow({ label, value = 0, total = 1, kind = 'neutral' }) {
  const pct = Math.max(0, Math.min(100, (value / (total || 1)) * 100));
  return (
    <div class="bar-row">
      <dt>{label}</dt>
      <dd>
        <svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
          <rect class="bar-bg" x="0" y="0" width="100" height="10" />
          <rect class={`bar-fg bar-${kind}`} x="0" y="0" width={pct} height="10" />
        </svg>
        <span class="bar-value">{value}</span>
      </dd>
    </div>
  );
}

export function OutcomeLine({ outcome }) {
  if (!outcome) return null;
  return (
    <p class={`outcome ${outcome.passed ? 'passed' : 'failed'}`}>
      <strong>{outcome.passed ? 'Được thông qua' : 'Chưa được thông qua'}</strong>
      {outcome.threshold != null && ` · cần tối thiểu ${outcome.threshold} phiếu tán thành`}
      {outcome.rule && ` · quy tắc: ${RULE_LABELS[outcome.rule] || outcome.rule}`}
      {outcome.silence_as_consent != null &&
        ` · không trả lời được tính là đồng ý: ${outcome.silence_as_consent ? 'có' : 'không'}`}
    </p>
  );
}

/**
 * Vertical bar chart: series = [{key, label, cls}], rows = [{label, values: {key: n}}]; stacked bars.
 * A data table follows for screen readers and exact numbers.
 */
export function StackedBars({ title, rows, series, unit = '' }) {
  const w = 640;
  const h = 220;
  const pad = { l: 36, r: 8, t: 12, b: 40 };
  const max = Math.max(1, ...rows.map((r) => series.reduce((s, x) => s + (r.values[x.key] || 0), 0)));
  const step = (w - pad.l - pad.r) / Math.max(rows.length, 1);
  const bw = Math.min(48, step * 0.6);
  const y = (v) => pad.t + (h - pad.t - pad.b) * (1 - v / max);
  const ticks = [0, Math.round(max / 2), max];
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={title} class="chart-svg">
        {ticks.map((t) => (
          <g key={t}>
            <line class="grid-line" x1={pad.l} x2={w - pad.r} y1={y(t)} y2={y(t)} />
            <text class="axis" x={pad.l - 6} y={y(t) + 4} text-anchor="end">
              {t}
            </text>
          </g>
        ))}
        {rows.map((r, i) => {
          let acc = 0;
          const x = pad.l + step * i + (step - bw) / 2;
          return (
            <g key={i}>
              {series.map((s) => {
                const v = r.values[s.key] || 0;
                const top = y(acc + v);
                const rect = <rect key={s.key} class={s.cls} x={x} width={bw} y={top} height={Math.max(0, y(acc) - top)} />;
                acc += v;
                return rect;
              })}
              <text class="axis" x={x + bw / 2} y={h - pad.b + 16} text-anchor="middle">
                {r.short || r.label}
              </text>
            </g>
          );
        })}
      </svg>
      <ul class="legend">
        {series.map((s) => (
          <li key={s.key}>
            <svg width="12" height="12" aria-hidden="true" focusable="false">
              <rect class={s.cls} width="12" height="12" />
            </svg>
            {s.label}
          </li>
        ))}
      </ul>
      <details>
        <summary>Xem số liệu</summary>
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Phiên họp</th>
              {series.map((s) => (
                <th scope="col" key={s.key}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                <th scope="row">{r.label}</th>
                {series.map((s) => (
                  <td key={s.key}>
                    {r.values[s.key] ?? '—'}
                    {unit}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
