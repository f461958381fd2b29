/* wkp-aperture-plot.h: inner-lip aperture over time, extracted vs predicted,
 * with the playhead and the selection. The view model: per-frame float32
 * series (NaN = unknown) at a frame rate. */
#pragma once

#include "wkp-time-view.h"

G_BEGIN_DECLS

typedef enum {
  WKP_APERTURE_EXTRACTED,
  WKP_APERTURE_PREDICTED,
  WKP_APERTURE_COMPARED,     /* a second model's prediction */
  WKP_APERTURE_N_SERIES
} WkpApertureSeries;

#define WKP_TYPE_APERTURE_PLOT (wkp_aperture_plot_get_type ())
G_DECLARE_FINAL_TYPE (WkpAperturePlot, wkp_aperture_plot, WKP, APERTURE_PLOT, WkpTimeView)

GtkWidget *wkp_aperture_plot_new        (void);
/* @values: float32 [n_frames]; NULL clears the series. */
void       wkp_aperture_plot_set_series (WkpAperturePlot *self, WkpApertureSeries series, GBytes *values,
                                         gint64 n_frames, int fps_num, int fps_den);
/* "match-levels": draw each model's curve scaled to the extracted curve's
 * mean and standard deviation over the frames both have (an affine map, so
 * the timing of peaks can be compared by eye; r is unchanged), with a note in
 * the legend. Off by default. */
void       wkp_aperture_plot_set_match_levels (WkpAperturePlot *self, gboolean match);
gboolean   wkp_aperture_plot_get_match_levels (WkpAperturePlot *self);
/* The value drawn for @series at @frame (NaN when none). */
double     wkp_aperture_plot_drawn_value      (WkpAperturePlot *self, WkpApertureSeries series, gint64 frame);
/* The y axis's range: 0 (or below, when a matched curve dips under 0) to
 * the largest value drawn, rounded out to 0.1. */
void       wkp_aperture_plot_get_y_range      (WkpAperturePlot *self, double *y_min, double *y_max);
/* Whether @series has values (and so a curve and a legend entry). */
gboolean   wkp_aperture_plot_has_series (WkpAperturePlot *self, WkpApertureSeries series);

/* The step between labelled values on the y axis (0.1, 0.2, 0.5, 1, 2, ...):
 * the finest that puts labels at least @min_px apart on a plot
 * @plot_height pixels tall showing 0 .. @y_max. */
double     wkp_aperture_label_step      (double y_max, double plot_height, double min_px);

G_END_DECLS
