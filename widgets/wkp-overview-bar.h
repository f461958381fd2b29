/* wkp-overview-bar.h: a slim bar for the whole clip under the ruler. It
 * shows which part of the clip the time views show (the "thumb"), with the
 * selection and the playhead; a click centres the view there, a drag moves
 * it, scrolling pans. Properties are the session's (position, range,
 * selection, duration, microseconds); moves are asked for with "pan". */
#pragma once

#include <gtk/gtk.h>

#include "wkp-timemap.h"

G_BEGIN_DECLS

#define WKP_TYPE_OVERVIEW_BAR (wkp_overview_bar_get_type ())
G_DECLARE_FINAL_TYPE (WkpOverviewBar, wkp_overview_bar, WKP, OVERVIEW_BAR, GtkWidget)

GtkWidget *wkp_overview_bar_new (void);

/* The whole clip over @width pixels: [0, max (duration, range end)]. */
void       wkp_overview_map     (gint64 duration, gint64 range_end, double width, WkpTimeMap *map);

/* The visible range [start, end] of a clip of @duration as a thumb on an
 * overview @width pixels wide: *x and *w in pixels, at least @min_w wide
 * (widened about its centre) and inside [0, width]. FALSE when there is
 * nothing to show (no duration, no width, empty range). */
gboolean   wkp_overview_thumb   (gint64 duration, gint64 start, gint64 end, double width, double min_w,
                                 double *x, double *w);

G_END_DECLS
