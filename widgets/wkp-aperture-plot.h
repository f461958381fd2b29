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
/* Whether @series has values (and so a curve and a legend entry). */
gboolean   wkp_aperture_plot_has_series (WkpAperturePlot *self, WkpApertureSeries series);

G_END_DECLS
