/* wkp-plot.h: evaluation plots drawn with Cairo, written as SVG and PNG.
 *
 * Each function writes BASE.svg and BASE.png atomically (both or neither).
 * NaN values are drawn as gaps (lines) or "n/a" (bars).
 */
#pragma once

#include <glib.h>

#include "wkp-error.h"
#include "wkp-time.h"

G_BEGIN_DECLS

/* Inner-lip aperture over time for one clip: the reference (black) and one
 * line per model. @series[i] has @n_frames values at @fps. @colours (may be
 * NULL: 0, 1, 2, ...) gives each series' palette index, so that a baseline
 * keeps its colour whatever the number of models. */
gboolean wkp_plot_aperture (const char *base, const char *title, WkpRational fps, gint64 n_frames,
                            const double *reference, const char * const *labels,
                            const double * const *series, int n_series, const int *colours, GError **error);

typedef struct {
  const char *name;        /* "LMD mouth" */
  const char *unit;        /* "× inter-ocular", may be NULL */
  gboolean    higher_is_better;
} WkpPlotMetric;

/* Summary bar chart: one panel per metric, one bar per model.
 * @values is [n_models, n_metrics] row-major; @lower / @upper (may be NULL,
 * same layout, NaN = none) draw an interval whisker on each bar, explained by
 * @note (may be NULL; one line per '\n') under the title; @colours as for
 * wkp_plot_aperture. */
gboolean wkp_plot_bars (const char *base, const char *title, const char *note,
                        const WkpPlotMetric *metrics, int n_metrics,
                        const char * const *models, int n_models,
                        const double *values, const double *lower, const double *upper,
                        const int *colours, GError **error);

/* Releases the process-wide caches of Cairo and fontconfig that drawing text
 * fills. Only for a program about to exit (the CLI), so that leak checkers
 * see a clean heap; no plot may be drawn afterwards. */
void     wkp_plot_release_caches (void);

G_END_DECLS
