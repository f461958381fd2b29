/* wkp-time.h: the engine's one time base.
 *
 * Time is gint64 microseconds everywhere in the engine. Frame rates are
 * rationals num/den frames per second; frame i covers
 * [i*den/num, (i+1)*den/num) seconds. Every conversion below is exact integer
 * arithmetic (128-bit intermediates, floor rounding), so frame boundaries never
 * drift, however long the clip.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gint32 num;
  gint32 den;
} WkpRational;

#define WKP_RATIONAL(n, d) ((WkpRational) { (n), (d) })
#define WKP_USEC_PER_SEC G_GINT64_CONSTANT (1000000)

gboolean    wkp_rational_is_valid     (WkpRational r);
/* A usable video/model frame rate: 1 to 1000 frames per second. */
gboolean    wkp_rational_is_frame_rate (WkpRational r);
double      wkp_rational_to_double    (WkpRational r);
WkpRational wkp_rational_reduce       (WkpRational r);
/* Parses "30000/1001", "25", "29.97" (the common NTSC decimals map to their
 * exact rationals). */
gboolean    wkp_rational_parse        (const char *text, WkpRational *out, GError **error);
/* wkp_rational_parse() of a frame rate, refused outside 1 to 1000 frames per
 * second (a rate of 1/100000 would size arrays by the hundred gigabytes). */
gboolean    wkp_frame_rate_parse      (const char *text, WkpRational *out, GError **error);
char       *wkp_rational_to_string    (WkpRational r);

/* floor (a * b / c) without overflow for any gint64 a, b and c > 0. */
gint64      wkp_muldiv_floor          (gint64 a, gint64 b, gint64 c);

/* First whole microsecond inside frame @frame (ceil of its exact start). */
gint64      wkp_frame_to_us           (gint64 frame, WkpRational fps);
/* The frame that contains time @us (floor). */
gint64      wkp_us_to_frame           (gint64 us, WkpRational fps);
/* First audio sample of frame @frame at @rate Hz: floor (frame*den*rate/num). */
gint64      wkp_frame_to_sample       (gint64 frame, WkpRational fps, gint rate);
/* Sample index of time @us at @rate Hz (floor). */
gint64      wkp_us_to_sample          (gint64 us, gint rate);
/* Number of frames needed to cover @n_samples at @rate Hz (ceil). */
gint64      wkp_frames_for_samples    (gint64 n_samples, WkpRational fps, gint rate);

G_END_DECLS
