import { useEffect, useRef } from "hono/jsx/dom";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export type Series = { label: string; values: (number | null)[]; stroke: string };

/**
 * One time-series chart (uPlot, drawn on a canvas in the browser), as wide as
 * its container. uPlot styles its elements through the CSSOM, which a strict
 * style-src allows.
 */
export function Chart({ title, times, series, unit }: { title: string; times: number[]; series: Series[]; unit: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(280, el.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 180,
        series: [
          {},
          ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, value: (_u: uPlot, v: number | null) => (v === null ? "—" : `${+v.toFixed(2)} ${unit}`) })),
        ],
        axes: [{ stroke: "currentColor" }, { stroke: "currentColor", size: 56 }],
        scales: { x: { time: true } },
      },
      [times, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [times, series]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: ${series.map((s) => `${s.label} latest ${s.values.at(-1) ?? "none"}`).join(", ")}`} />
    </figure>
  );
}
