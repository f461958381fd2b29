#include "wkp-timemap.h"

#include <math.h>

double
wkp_time_map_to_x (const WkpTimeMap *map, gint64 us)
{
  gint64 span = map->end_us - map->start_us;
  if (span <= 0)
    return 0.0;
  return (double) (us - map->start_us) * map->width / (double) span;
}

gint64
wkp_time_map_to_us (const WkpTimeMap *map, double x)
{
  gint64 span = map->end_us - map->start_us;
  if (map->width <= 0)
    return map->start_us;
  return map->start_us + (gint64) llround (x * (double) span / map->width);
}

/* floor (a / b) for b > 0 with a 128-bit numerator */
static gint64
floor_div128 (__int128 a, __int128 b)
{
  __int128 q = a / b;
  if ((a % b != 0) && (a < 0))
    q -= 1;
  return (gint64) q;
}

gint64
wkp_view_frame_at (gint64 us, int fps_num, int fps_den)
{
  g_return_val_if_fail (fps_num > 0 && fps_den > 0, 0);
  return floor_div128 ((__int128) us * fps_num, (__int128) fps_den * 1000000);
}

gint64
wkp_view_frame_start (gint64 frame, int fps_num, int fps_den)
{
  g_return_val_if_fail (fps_num > 0 && fps_den > 0, 0);
  /* ceil (x) = -floor (-x) */
  return -floor_div128 (-((__int128) frame * fps_den * 1000000), fps_num);
}

void
wkp_time_range_zoom (gint64 *start, gint64 *end, gint64 anchor_us, double factor,
                     gint64 duration_us, gint64 min_span_us)
{
  gint64 span = *end - *start;
  double rel;
  gint64 new_span, s;

  if (span <= 0 || duration_us <= 0)
    return;
  rel = (double) (anchor_us - *start) / (double) span;
  rel = CLAMP (rel, 0.0, 1.0);
  new_span = (gint64) llround ((double) span * factor);
  new_span = CLAMP (new_span, MIN (min_span_us, duration_us), duration_us);
  s = anchor_us - (gint64) llround (rel * (double) new_span);
  s = CLAMP (s, 0, duration_us - new_span);
  *start = s;
  *end = s + new_span;
}

void
wkp_time_range_pan (gint64 *start, gint64 *end, gint64 delta_us, gint64 duration_us)
{
  gint64 span = *end - *start;
  gint64 s = *start + delta_us;
  s = CLAMP (s, 0, MAX (0, duration_us - span));
  *start = s;
  *end = s + span;
}

char *
wkp_format_time (gint64 us)
{
  gboolean neg = us < 0;
  gint64 a = neg ? -us : us;
  gint64 cs = a / 10000;
  return g_strdup_printf ("%s%" G_GINT64_FORMAT ":%02d.%02d", neg ? "-" : "",
                          cs / 6000, (int) ((cs / 100) % 60), (int) (cs % 100));
}
