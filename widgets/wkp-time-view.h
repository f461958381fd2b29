/* wkp-time-view.h: base class of the views drawn along time (spectrogram,
 * aperture plot, timeline bar). It holds the shared timeline state as plain
 * properties, which the application binds to its one session model:
 * position, visible range, selection and duration (all microseconds). */
#pragma once

#include <gtk/gtk.h>

#include "wkp-timemap.h"

G_BEGIN_DECLS

#define WKP_TYPE_TIME_VIEW (wkp_time_view_get_type ())
G_DECLARE_DERIVABLE_TYPE (WkpTimeView, wkp_time_view, WKP, TIME_VIEW, GtkWidget)

struct _WkpTimeViewClass
{
  GtkWidgetClass parent_class;
  /* called when the range or duration changes (to drop caches) */
  void (*range_changed) (WkpTimeView *self);
};

gint64 wkp_time_view_get_position        (WkpTimeView *self);
void   wkp_time_view_set_position        (WkpTimeView *self, gint64 us);
void   wkp_time_view_get_range           (WkpTimeView *self, gint64 *start, gint64 *end);
void   wkp_time_view_set_range           (WkpTimeView *self, gint64 start, gint64 end);
/* -1, -1: no selection */
void   wkp_time_view_get_selection       (WkpTimeView *self, gint64 *start, gint64 *end);
void   wkp_time_view_set_selection       (WkpTimeView *self, gint64 start, gint64 end);
gint64 wkp_time_view_get_duration        (WkpTimeView *self);
void   wkp_time_view_set_duration        (WkpTimeView *self, gint64 us);

/* The current map for a drawing width (the range over @width pixels). */
void   wkp_time_view_get_map             (WkpTimeView *self, double width, WkpTimeMap *map);

/* Drawing helpers for subclasses. */
void   wkp_time_view_snapshot_selection  (WkpTimeView *self, GtkSnapshot *snapshot,
                                          double width, double height);
/* The selection's start and end as lines of @color (where the wash alone
 * does not show on a busy background). */
void   wkp_time_view_snapshot_selection_edges (WkpTimeView *self, GtkSnapshot *snapshot,
                                               double width, double height, const GdkRGBA *color);
void   wkp_time_view_snapshot_playhead   (WkpTimeView *self, GtkSnapshot *snapshot,
                                          double width, double height);

G_END_DECLS
