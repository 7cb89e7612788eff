import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef, useState } from 'react';

echarts.use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer]);

export interface Series {
  name: string;
  color: string;
  values: number[];
  kind?: 'line' | 'bar';
}

/**
 * A by-day chart (ECharts, canvas). This module is imported lazily by the dashboard only, so
 * the chart library stays out of every other screen's download.
 */
export default function TrendChart({
  labels,
  series,
  height = 260,
}: {
  labels: string[];
  series: Series[];
  height?: number;
}) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const dark = useDarkClass();
  useEffect(() => {
    if (!element.current) return;
    const instance = echarts.init(element.current, undefined, { renderer: 'canvas' });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(element.current);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    const axis = dark ? 'rgba(255,255,255,0.55)' : 'rgba(30,35,60,0.55)';
    const grid = dark ? 'rgba(255,255,255,0.08)' : 'rgba(30,35,60,0.08)';
    chart.current?.setOption(
      {
        animationDuration: 300,
        grid: { left: 8, right: 12, top: 36, bottom: 4, containLabel: true },
        legend: {
          top: 0,
          left: 0,
          icon: 'roundRect',
          itemWidth: 10,
          itemHeight: 10,
          textStyle: { color: axis, fontSize: 12 },
        },
        tooltip: {
          trigger: 'axis',
          backgroundColor: dark ? '#22232d' : '#fff',
          borderColor: dark ? '#34364a' : '#e4e6ef',
          textStyle: { color: dark ? '#eee' : '#222', fontSize: 12 },
        },
        xAxis: {
          type: 'category',
          data: labels,
          boundaryGap: series.some((item) => item.kind === 'bar'),
          axisLine: { lineStyle: { color: grid } },
          axisTick: { show: false },
          axisLabel: { color: axis, fontSize: 11, hideOverlap: true },
        },
        yAxis: {
          type: 'value',
          minInterval: 1,
          splitLine: { lineStyle: { color: grid } },
          axisLabel: { color: axis, fontSize: 11 },
        },
        series: series.map((item) =>
          item.kind === 'bar'
            ? {
                name: item.name,
                type: 'bar',
                data: item.values,
                itemStyle: { color: item.color, borderRadius: [3, 3, 0, 0] },
                barMaxWidth: 18,
              }
            : {
                name: item.name,
                type: 'line',
                data: item.values,
                smooth: 0.25,
                smoothMonotone: 'x',
                symbol: 'circle',
                symbolSize: labels.length > 40 ? 0 : 5,
                lineStyle: { width: 2, color: item.color },
                itemStyle: { color: item.color },
                areaStyle: {
                  color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [
                    { offset: 0, color: `${item.color}33` },
                    { offset: 1, color: `${item.color}00` },
                  ]),
                },
              },
        ),
      },
      true,
    );
  }, [labels, series, dark]);
  return (
    <div
      ref={element}
      style={{ height }}
      className="w-full"
      role="img"
      aria-label={series.map((item) => item.name).join(', ')}
    />
  );
}

/** Whether the page is dark right now (the theme toggles `dark` on <html>). */
function useDarkClass(): boolean {
  const [dark, setDark] = useState(() => document.documentElement.classList.contains('dark'));
  useEffect(() => {
    const observer = new MutationObserver(() => setDark(document.documentElement.classList.contains('dark')));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['class'] });
    return () => observer.disconnect();
  }, []);
  return dark;
}
