/* wkp-timemap.h: time <-> pixel and time <-> frame mapping for the views.
 *
 * The widgets library links GTK only, so it carries its own exact integer
 * frame arithmetic (the same convention as the engine's wkp-time.h: frame i
 * covers [i*den/num, (i+1)*den/num) seconds; times are gint64 microseconds).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gint64 start_us;   /* time at x = 0 */
  gint64 end_us;     /* time at x = width */
  double width;      /* pixels */
} WkpTimeMap;

double   wkp_time_map_to_x      (const WkpTimeMap *map, gint64 us);
/* Inverse of wkp_time_map_to_x, rounded to the nearest microsecond. */
gint64   wkp_time_map_to_us     (const WkpTimeMap *map, double x);

/* The frame that contains @us (floor); frames before 0 are negative. */
gint64   wkp_view_frame_at      (gint64 us, int fps_num, int fps_den);
/* First whole microsecond inside frame @frame (ceil of its exact start). */
gint64   wkp_view_frame_start   (gint64 frame, int fps_num, int fps_den);

/* Zooms [*start, *end] by @factor (< 1 zooms in) keeping @anchor_us at the
 * same relative position, clamped to [0, duration] and to a minimum span of
 * @min_span_us. */
void     wkp_time_range_zoom    (gint64 *start, gint64 *end, gint64 anchor_us, double factor,
                                 gint64 duration_us, gint64 min_span_us);
/* Shifts the range by @delta_us, clamped to [0, duration]. */
void     wkp_time_range_pan     (gint64 *start, gint64 *end, gint64 delta_us, gint64 duration_us);

/* "m:ss.ff" (ff = hundredths), for labels. */
char    *wkp_format_time        (gint64 us);

G_END_DECLS
