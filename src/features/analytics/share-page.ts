import { renderTimeseriesSvg } from './chart.ts';
import type { SharedReport } from './share-links.ts';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
  :root { font-family: 'DejaVu Sans', system-ui, sans-serif; color: #111827; }
  body { margin: 0; background: #f9fafb; }
  main { max-width: 960px; margin: 0 auto; padding: 24px; }
  h1 { font-size: 22px; margin: 0 0 4px; } .muted { color: #6b7280; font-size: 14px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin: 20px 0; }
  .card { background: #fff; border: 1px solid #e5e7eb; border-radius: 10px; padding: 12px 14px; }
  .card b { display: block; font-size: 22px; margin-top: 4px; }
  table { border-collapse: collapse; width: 100%; background: #fff; margin: 8px 0 20px; }
  th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e5e7eb; font-size: 14px; }
  .chart { background: #fff; border: 1px solid #e5e7eb; border-radius: 10px; padding: 8px; margin: 12px 0; }
  .chart svg { width: 100%; height: auto; }
`;

function card(label: string, value: unknown): string {
  return `<div class="card"><span class="muted">${escapeHtml(label)}</span><b>${escapeHtml(value ?? '—')}</b></div>`;
}

/** The public page of a share link: figures, funnel and charts (inline SVG), no script. */
export function renderSharePage(report: SharedReport): string {
  const parts: string[] = [];
  const { summary } = report;
  if (summary) {
    parts.push(
      '<div class="cards">',
      card('Conversations', summary.conversations),
      card(`Unique users${summary.uniqueUsersMethod === 'hll' ? ' (≈)' : ''}`, summary.uniqueUsers),
      card('New users', summary.newUsers),
      card('Messages in', summary.messagesIn),
      card('Messages out', summary.messagesOut),
      card('Escalations', summary.escalations.opened),
      card('Resolved', summary.escalations.resolved),
      card('Median first response (s)', summary.escalations.medianFirstResponseSeconds),
      card('Median resolution (s)', summary.escalations.medianResolutionSeconds),
      card('Searches', summary.searches),
      card('Zero-result searches', summary.zeroResultSearches),
      card('Product views', summary.productViews),
      card('LLM tokens', summary.llm.tokens),
      card('Delivery failures', summary.deliveryFailures),
      '</div>',
    );
    if (summary.topQueries.length > 0) {
      parts.push('<h2>Top queries</h2><table><tr><th>Query</th><th>Searches</th></tr>');
      for (const entry of summary.topQueries)
        parts.push(`<tr><td>${escapeHtml(entry.query)}</td><td>${escapeHtml(entry.count)}</td></tr>`);
      parts.push('</table>');
    }
    if (summary.topProducts.length > 0) {
      parts.push('<h2>Top products viewed</h2><table><tr><th>Product</th><th>Views</th></tr>');
      for (const entry of summary.topProducts)
        parts.push(
          `<tr><td>${escapeHtml(entry.title ?? entry.productId)}</td><td>${escapeHtml(entry.count)}</td></tr>`,
        );
      parts.push('</table>');
    }
  }
  for (const series of report.timeseries ?? []) {
    // ECharts builds this SVG from numbers and our labels; labels are escaped by ECharts.
    parts.push(
      `<div class="chart">${renderTimeseriesSvg(series.points, { title: series.metric.replaceAll('_', ' '), width: 900, height: 320 })}</div>`,
    );
  }
  if (report.funnel) {
    parts.push('<h2>Funnel</h2><table><tr><th>Step</th><th>Contacts</th><th>Of started</th></tr>');
    for (const step of report.funnel)
      parts.push(
        `<tr><td>${escapeHtml(step.step.replaceAll('_', ' '))}</td><td>${escapeHtml(step.count)}</td><td>${escapeHtml(`${Math.round(step.ofStarted * 1000) / 10} %`)}</td></tr>`,
      );
    parts.push('</table>');
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(report.name)}</title><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(report.name)}</h1>
<div class="muted">${escapeHtml(report.workspaceName)} · ${escapeHtml(report.from)} – ${escapeHtml(report.to)} (${escapeHtml(report.timezone)}) · generated ${escapeHtml(report.generatedAt.toISOString())} · link expires ${escapeHtml(report.expiresAt.toISOString())}</div>
${parts.join('\n')}
</main></body></html>`;
}

/** The page shown for an expired, revoked or unknown link. */
export function renderShareErrorPage(status: number, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Report unavailable</title><style>${STYLE}</style></head>
<body><main><h1>${status === 410 ? 'This report link is no longer available' : 'Report not found'}</h1>
<p class="muted">${escapeHtml(message)}</p></main></body></html>`;
}
