/**
 * A uPlot time-series chart sized to its container. uPlot draws on a canvas and sets sizes
 * through the CSSOM (allowed by the CSP; only style attributes in markup and `<style>`
 * elements are refused). Colours come from the theme's CSS variables, so dark mode follows.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";

export interface ChartSeries {
  label: string;
  values: number[];
  colourVariable: string;
}

function cssVariable(element: Element, name: string, fallback: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || fallback;
}

export function TimeChart({
  title,
  times,
  series,
  appearance,
}: {
  title: string;
  times: number[];
  series: ChartSeries[];
  appearance: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new appearance means new colours: draw again
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const axisColour = cssVariable(element, "--gray-11", "#666");
    const gridColour = cssVariable(element, "--gray-a4", "rgba(0,0,0,0.1)");
    const axis = {
      stroke: axisColour,
      grid: { stroke: gridColour, width: 1 },
      ticks: { stroke: gridColour },
    };
    const options: uPlot.Options = {
      title,
      width: Math.max(element.clientWidth, 200),
      height: 220,
      series: [
        {},
        ...series.map((line) => ({
          label: line.label,
          stroke: cssVariable(element, line.colourVariable, "#3e63dd"),
          width: 2,
          points: { show: times.length < 40 },
        })),
      ],
      axes: [axis, { ...axis, size: 40 }],
      scales: { x: { time: true } },
      legend: { show: true },
    };
    const plot = new uPlot(options, [times, ...series.map((line) => line.values)], element);
    const observer = new ResizeObserver(() => {
      plot.setSize({ width: Math.max(element.clientWidth, 200), height: 220 });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [title, times, series, appearance]);
  return <div ref={container} className="chart" role="img" aria-label={title} />;
}
