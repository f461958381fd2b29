/* wkp-timeline-bar.h: a time ruler with the playhead and the selection;
 * drag to scrub, shift+drag to select, Ctrl+scroll to zoom (signals of
 * WkpTimeView). */
#pragma once

#include "wkp-time-view.h"

G_BEGIN_DECLS

#define WKP_TYPE_TIMELINE_BAR (wkp_timeline_bar_get_type ())
G_DECLARE_FINAL_TYPE (WkpTimelineBar, wkp_timeline_bar, WKP, TIMELINE_BAR, WkpTimeView)

GtkWidget *wkp_timeline_bar_new (void);

/* Tick spacing (microseconds) giving at least @min_px pixels between ticks. */
gint64     wkp_timeline_tick_step (const WkpTimeMap *map, double min_px);

/* Where a ruler label @label_w pixels wide goes for a tick at @tick_x on a
 * ruler @width pixels wide, the previous label ending at @prev_end: right
 * of the tick; right-aligned left of it where it would be clipped at the
 * right edge. FALSE (label left out) when neither fits clear of the
 * previous label. */
gboolean   wkp_timeline_label_x   (double tick_x, double label_w, double width, double prev_end,
                                   double *x);

G_END_DECLS
