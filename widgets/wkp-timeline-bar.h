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

G_END_DECLS
