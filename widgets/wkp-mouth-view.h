/* wkp-mouth-view.h: predicted vs extracted mouth keypoints (48..67) of the
 * current frame in the normalised (canonical) face frame, overlaid in two
 * colours with a legend. The view model: two arrays of 68 canonical (x, y)
 * pairs (NaN where unknown) and the canonical box to show. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define WKP_TYPE_MOUTH_VIEW (wkp_mouth_view_get_type ())
G_DECLARE_FINAL_TYPE (WkpMouthView, wkp_mouth_view, WKP, MOUTH_VIEW, GtkWidget)

GtkWidget *wkp_mouth_view_new           (void);
/* 68 canonical (x, y) pairs each; NULL clears. Copied. */
void       wkp_mouth_view_set_predicted (WkpMouthView *self, const float *points);
void       wkp_mouth_view_set_extracted (WkpMouthView *self, const float *points);
/* A second model's prediction (purple, dotted); its legend entry shows
 * while points are set or wkp_mouth_view_set_compared_legend() says so. */
void       wkp_mouth_view_set_compared  (WkpMouthView *self, const float *points);
void       wkp_mouth_view_set_compared_legend (WkpMouthView *self, gboolean compared);
gboolean   wkp_mouth_view_get_compared_legend (WkpMouthView *self);
/* The canonical-frame box mapped to the widget (aspect kept). */
/* Which series the legend names (both by default): a clip without landmarks
 * or without a model shows only what it has. */
void       wkp_mouth_view_set_legend    (WkpMouthView *self, gboolean extracted, gboolean predicted);
void       wkp_mouth_view_get_legend    (WkpMouthView *self, gboolean *extracted, gboolean *predicted);
void       wkp_mouth_view_set_bounds    (WkpMouthView *self, double x0, double y0, double x1, double y1);
/* A short note drawn at the bottom (e.g. "No model"); NULL for none. */
void       wkp_mouth_view_set_note      (WkpMouthView *self, const char *note);
const char *wkp_mouth_view_get_note     (WkpMouthView *self);

/* The scale bar's length in canonical units (inter-ocular distances) at
 * @px_per_unit pixels per unit: the shortest of 0.01, 0.02, 0.05, 0.1, 0.2,
 * 0.5, 1 that is at least @min_px long (1 when none is). */
double     wkp_mouth_scale_bar_units    (double px_per_unit, double min_px);

G_END_DECLS
