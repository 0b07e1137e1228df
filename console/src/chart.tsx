import { useEffect, useRef } from "hono/jsx/dom";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export type Series = { label: string; values: (number | null)[]; stroke: string };

const HEIGHT = 180;

/**
 * One time-series chart (uPlot, drawn on a canvas in the browser), as wide as
 * its container. uPlot styles its elements through the CSSOM, which a strict
 * style-src allows. Drawn again only when the figures change (the overview
 * polls); each point is marked, so that a lone bucket shows.
 */
export function Chart({ title, times, series, unit }: { title: string; times: number[]; series: Series[]; unit: string }) {
  const box = useRef<HTMLDivElement>(null);
  const figures = JSON.stringify([times, series]);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.replaceChildren();
    const width = () => Math.max(280, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: HEIGHT,
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: 2,
            points: { show: true, size: 5 },
            value: (_u: uPlot, v: number | null) => (v === null ? "—" : `${+v.toFixed(2)} ${unit}`),
          })),
        ],
        axes: [{ stroke: "currentColor" }, { stroke: "currentColor", size: 56 }],
        scales: { x: { time: true } },
      },
      [times, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [figures]);
  const latest = series.map((s) => `${s.label} ${s.values.findLast((v) => v !== null) ?? "none"}`).join(", ");
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title} (${unit}), latest: ${latest}`} />
    </figure>
  );
}
