import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts';
import type { TimeseriesPoint } from './service.ts';

/**
 * Server-side charts, no browser: ECharts renders to an SVG string (its SSR mode), resvg
 * rasterizes it to PNG. The font ships with the app (the `dejavu-fonts-ttf` package), so
 * labels render the same on a bare container without system fonts.
 */
const FONT_FAMILY = 'DejaVu Sans';
const fontFile = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');

export interface ChartOptions {
  title: string;
  width?: number;
  height?: number;
  /** Draw bars instead of a line. */
  bars?: boolean;
}

/** An SVG chart of a timeseries (for the share page, inline; and the PNG export). */
export function renderTimeseriesSvg(points: TimeseriesPoint[], options: ChartOptions): string {
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: options.width ?? 800,
    height: options.height ?? 400,
  });
  try {
    chart.setOption({
      animation: false,
      backgroundColor: '#ffffff',
      textStyle: { fontFamily: FONT_FAMILY },
      title: { text: options.title, left: 'center', textStyle: { fontFamily: FONT_FAMILY, fontSize: 14 } },
      grid: { left: 56, right: 24, top: 48, bottom: 48 },
      xAxis: {
        type: 'category',
        data: points.map((point) => point.label),
        axisLabel: { fontFamily: FONT_FAMILY },
      },
      yAxis: { type: 'value', minInterval: 1, axisLabel: { fontFamily: FONT_FAMILY } },
      series: [
        {
          type: options.bars ? 'bar' : 'line',
          data: points.map((point) => point.value),
          showSymbol: points.length <= 60,
          itemStyle: { color: '#2563eb' },
          ...(options.bars ? {} : { areaStyle: { opacity: 0.12 } }),
        },
      ],
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** The same chart as PNG bytes. */
export function renderTimeseriesPng(points: TimeseriesPoint[], options: ChartOptions): Buffer {
  const svg = renderTimeseriesSvg(points, options);
  const resvg = new Resvg(svg, {
    font: { fontFiles: [fontFile], loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
    background: '#ffffff',
  });
  return resvg.render().asPng();
}
