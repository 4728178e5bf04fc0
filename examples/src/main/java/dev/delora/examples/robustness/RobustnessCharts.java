package dev.delora.examples.robustness;

import de.erichseifert.vectorgraphics2d.Document;
import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.svg.SVGProcessor;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import dev.delora.djl.io.AtomicFiles;
import java.awt.AWTError;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The grid's charts, drawn with XChart (PNG, and SVG through its VectorGraphics2D backend):
 *
 * <ul>
 *   <li>{@code fig2.png}/{@code .svg}, the paper's Fig. 2 for one GLUE task: left, the test metric at the best
 *       validation epoch (mean over seeds, error bars = sample std) against the learning-rate multiplier (log axis);
 *       right, the final distance {@code ‖W_fine-tuned − W_pretrained‖_F} over all adapted weights (mean over
 *       seeds) against the multiplier; one line per method.</li>
 *   <li>{@code fig3.png}/{@code .svg}, the paper's Fig. 3: the distance against the optimizer step for the first
 *       seed, one solid line per method at its smallest multiplier and one dashed line at its largest.</li>
 * </ul>
 */
final class RobustnessCharts {

    static final int WIDTH = 760;
    static final int HEIGHT = 520;
    /** Fig. 3 is one wider panel: its legend has two entries per method. */
    static final int WIDE = 920;

    private static final Color[] PALETTE = {
        new Color(0x1f77b4),
        new Color(0xff7f0e),
        new Color(0x2ca02c),
        new Color(0xd62728),
        new Color(0x9467bd),
        new Color(0x8c564b),
        new Color(0xe377c2),
        new Color(0x7f7f7f)
    };
    private static final BasicStroke SOLID = new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    private static final BasicStroke DASHED =
            new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {9f, 6f}, 0f);
    private static final String MULTIPLIER_AXIS = "learning rate (× method's base rate, log₂ scale)";
    private static final String DISTANCE_AXIS = "‖W_fine-tuned − W_pretrained‖_F, all adapted weights";

    private RobustnessCharts() {}

    /**
     * Writes the charts; a failure (e.g. a JVM without fonts) is printed as one line and the grid goes on.
     *
     * @param output the grid's folder
     * @param spec the grid
     * @param done the finished cells by cell id
     * @param out where the failure line goes
     */
    static void writeQuietly(Path output, GridSpec spec, Map<String, CellResult> done, PrintStream out) {
        try {
            write(output, spec, done);
        } catch (IOException | RuntimeException | AWTError | LinkageError e) {
            out.println("charts not written: " + e);
        }
    }

    /**
     * Writes {@code fig2} and {@code fig3} (PNG and SVG) once they have data.
     *
     * @param output the grid's folder
     * @param spec the grid
     * @param done the finished cells by cell id
     * @throws IOException if writing fails
     */
    static void write(Path output, GridSpec spec, Map<String, CellResult> done) throws IOException {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        List<XYChart> fig2 = fig2(spec, RobustnessReport.rows(spec, done));
        if (!fig2.isEmpty()) {
            save(output, "fig2", fig2);
        }
        XYChart fig3 = fig3(output, spec, done);
        if (fig3 != null) {
            save(output, "fig3", List.of(fig3));
        }
    }

    /** The two panels of Fig. 2, or none while no cell has finished. */
    static List<XYChart> fig2(GridSpec spec, List<RobustnessReport.Row> rows) {
        String where = spec.task().id() + ", " + RobustnessReport.modelLabel(spec.model());
        String metric = spec.task().selectionMetric().replace('_', ' ');
        XYChart metricChart = chart(
                where + ": test " + metric + " vs learning rate",
                MULTIPLIER_AXIS,
                RobustnessReport.metricAxis(spec.task().selectionMetric()));
        XYChart distanceChart =
                chart(where + ": distance from pretrained weights vs learning rate", MULTIPLIER_AXIS, DISTANCE_AXIS);
        // x is log2(multiplier) on a linear axis, labelled ×1, ×2, ×4, … at whole powers of two: XChart's own log
        // axis labels only 1, 2, …, 10, 20, … and a custom formatter would lose its log ticks
        for (XYChart c : List.of(metricChart, distanceChart)) {
            c.getStyler().setErrorBarsColorSeriesColor(true).setXAxisTickMarkSpacingHint(90);
            c.setCustomXAxisTickLabelsFormatter(RobustnessCharts::powerOfTwoLabel);
        }
        metricChart.getStyler().setYAxisDecimalPattern("0.##");
        int i = 0;
        for (String method : spec.methods().keySet()) {
            List<Double> mx = new ArrayList<>();
            List<Double> my = new ArrayList<>();
            List<Double> me = new ArrayList<>();
            List<Double> dx = new ArrayList<>();
            List<Double> dy = new ArrayList<>();
            for (RobustnessReport.Row r : rows) {
                if (!r.method().equals(method)) {
                    continue;
                }
                if (r.metricMean() != null) {
                    mx.add(log2(r.multiplier()));
                    my.add(100 * r.metricMean());
                    me.add(100 * r.metricStd());
                }
                if (r.finalDistanceMean() != null) {
                    dx.add(log2(r.multiplier()));
                    dy.add(r.finalDistanceMean());
                }
            }
            Color color = PALETTE[i++ % PALETTE.length];
            if (!mx.isEmpty()) {
                style(metricChart.addSeries(method, mx, my, me), color, SOLID, true);
            }
            if (!dx.isEmpty()) {
                style(distanceChart.addSeries(method, dx, dy), color, SOLID, true);
            }
        }
        if (metricChart.getSeriesMap().isEmpty() && distanceChart.getSeriesMap().isEmpty()) {
            return List.of();
        }
        return List.of(metricChart, distanceChart);
    }

    /** Fig. 3 from the first seed's distance logs, or {@code null} while none has finished. */
    static XYChart fig3(Path output, GridSpec spec, Map<String, CellResult> done) throws IOException {
        int seed = spec.seeds().get(0);
        double low = Collections.min(spec.multipliers());
        double high = Collections.max(spec.multipliers());
        XYChart chart = chart(
                WIDE,
                spec.task().id() + ", " + RobustnessReport.modelLabel(spec.model())
                        + ": distance from pretrained weights during training (seed " + seed + ")",
                "optimizer step",
                DISTANCE_AXIS);
        int i = 0;
        for (String method : spec.methods().keySet()) {
            Color color = PALETTE[i++ % PALETTE.length];
            for (double x : low == high ? List.of(low) : List.of(low, high)) {
                GridCell cell = spec.cell(method, x, seed);
                if (!done.containsKey(cell.id())) {
                    continue;
                }
                List<Double> steps = new ArrayList<>();
                List<Double> totals = new ArrayList<>();
                for (DistanceLog.Point p : DistanceLog.read(
                        RobustnessGrid.cellDir(output, cell).resolve("seed-" + seed + "-distance.jsonl"))) {
                    if (p.total() != null) {
                        steps.add((double) p.step());
                        totals.add(p.total());
                    }
                }
                if (!steps.isEmpty()) {
                    String name = method + " ×" + GridCell.multiplierText(x);
                    style(chart.addSeries(name, steps, totals), color, x == low ? SOLID : DASHED, steps.size() <= 2);
                }
            }
        }
        return chart.getSeriesMap().isEmpty() ? null : chart;
    }

    private static XYChart chart(String title, String xAxis, String yAxis) {
        return chart(WIDTH, title, xAxis, yAxis);
    }

    private static XYChart chart(int width, String title, String xAxis, String yAxis) {
        XYChart chart = new XYChartBuilder()
                .width(width)
                .height(HEIGHT)
                .title(title)
                .xAxisTitle(xAxis)
                .yAxisTitle(yAxis)
                .build();
        Styler s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE)
                .setPlotBackgroundColor(Color.WHITE)
                .setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 13))
                .setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12))
                .setLegendPosition(Styler.LegendPosition.OutsideS)
                .setLegendLayout(Styler.LegendLayout.Horizontal)
                .setLegendBorderColor(Color.WHITE)
                .setChartTitleBoxVisible(false);
        chart.getStyler().setPlotGridLinesColor(new Color(0xdddddd)).setPlotBorderVisible(true);
        chart.getStyler().setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        return chart;
    }

    private static void style(XYSeries series, Color color, BasicStroke line, boolean markers) {
        series.setLineColor(color);
        series.setLineStyle(line);
        series.setMarkerColor(color);
        series.setMarker(markers ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
    }

    static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    /**
     * Labels a tick of the log2 axis: {@code ×2^t} at whole {@code t} (×0.5, ×1, ×16), nothing between.
     *
     * @param t the tick's log2 value
     * @return the label
     */
    static String powerOfTwoLabel(double t) {
        long whole = Math.round(t);
        if (Math.abs(t - whole) > 1e-6) {
            return "";
        }
        return "×" + GridCell.multiplierText(Math.pow(2, whole));
    }

    /** Writes {@code <name>.png} (the charts side by side) and {@code <name>.svg}, each atomically. */
    private static void save(Path output, String name, List<XYChart> charts) throws IOException {
        AtomicFiles.write(
                output.resolve(name + ".png"),
                out -> BitmapEncoder.saveBitmap(charts, 1, charts.size(), out, BitmapEncoder.BitmapFormat.PNG));
        VectorGraphics2D g = new VectorGraphics2D();
        for (XYChart c : charts) {
            c.paint(g, c.getWidth(), c.getHeight());
            g.translate(c.getWidth(), 0);
        }
        Document svg = new SVGProcessor()
                .getDocument(
                        g.getCommands(),
                        new PageSize(
                                0,
                                0,
                                charts.stream().mapToDouble(XYChart::getWidth).sum(),
                                HEIGHT));
        AtomicFiles.write(output.resolve(name + ".svg"), svg::writeTo);
    }
}
