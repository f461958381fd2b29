#include "wkp-time.h"
#include "wkp-error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

gboolean
wkp_rational_is_valid (WkpRational r)
{
  return r.num > 0 && r.den > 0;
}

gboolean
wkp_rational_is_frame_rate (WkpRational r)
{
  return wkp_rational_is_valid (r) && wkp_rational_to_double (r) >= 1.0 && wkp_rational_to_double (r) <= 1000.0;
}

double
wkp_rational_to_double (WkpRational r)
{
  return r.den != 0 ? (double) r.num / (double) r.den : 0.0;
}

static gint64
gcd64 (gint64 a, gint64 b)
{
  while (b != 0)
    {
      gint64 t = a % b;
      a = b;
      b = t;
    }
  return a < 0 ? -a : a;
}

WkpRational
wkp_rational_reduce (WkpRational r)
{
  gint64 g = gcd64 (r.num, r.den);
  if (g > 1)
    {
      r.num /= g;
      r.den /= g;
    }
  return r;
}

gboolean
wkp_rational_parse (const char *text, WkpRational *out, GError **error)
{
  const char *slash;
  char *end = NULL;

  g_return_val_if_fail (out != NULL, FALSE);

  if (text == NULL || *text == '\0')
    goto bad;

  slash = strchr (text, '/');
  if (slash != NULL)
    {
      gint64 num, den;
      num = g_ascii_strtoll (text, &end, 10);
      if (end != slash)
        goto bad;
      den = g_ascii_strtoll (slash + 1, &end, 10);
      if (*end != '\0' || num <= 0 || den <= 0 || num > G_MAXINT32 || den > G_MAXINT32)
        goto bad;
      *out = wkp_rational_reduce (WKP_RATIONAL ((gint32) num, (gint32) den));
      return TRUE;
    }
  else
    {
      double v = g_ascii_strtod (text, &end);
      if (*end != '\0' || !isfinite (v) || v <= 0 || v > 100000)
        goto bad;
      /* NTSC-family decimals stand for n*1000/1001. */
      static const int ntsc[] = { 24, 30, 60, 120 };
      for (guint i = 0; i < G_N_ELEMENTS (ntsc); i++)
        {
          double exact = ntsc[i] * 1000.0 / 1001.0;
          if (fabs (v - exact) < 0.006)
            {
              *out = WKP_RATIONAL (ntsc[i] * 1000, 1001);
              return TRUE;
            }
        }
      if (llround (v * 1000.0) <= 0)
        goto bad;   /* below 0.0005 fps: would round to 0 and read as "not given" */
      if (fabs (v - round (v)) < 1e-9)
        *out = WKP_RATIONAL ((gint32) round (v), 1);
      else
        *out = wkp_rational_reduce (WKP_RATIONAL ((gint32) llround (v * 1000.0), 1000));
      return TRUE;
    }

bad:
  g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
               "Invalid frame rate “%s”: expected NUM/DEN (e.g. 30000/1001) or a positive number",
               text ? text : "");
  return FALSE;
}

gboolean
wkp_frame_rate_parse (const char *text, WkpRational *out, GError **error)
{
  WkpRational r;
  if (!wkp_rational_parse (text, &r, error))
    return FALSE;
  if (!wkp_rational_is_frame_rate (r))
    {
      g_set_error (error, WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                   "Frame rate “%s” is outside 1 to 1000 frames per second", text);
      return FALSE;
    }
  *out = r;
  return TRUE;
}

char *
wkp_rational_to_string (WkpRational r)
{
  return g_strdup_printf ("%d/%d", r.num, r.den);
}

gint64
wkp_muldiv_floor (gint64 a, gint64 b, gint64 c)
{
  __int128 p = (__int128) a * (__int128) b;
  __int128 q;

  g_return_val_if_fail (c > 0, 0);
  q = p / c;
  if ((p % c != 0) && (p < 0))
    q -= 1;
  return (gint64) q;
}

gint64
wkp_frame_to_us (gint64 frame, WkpRational fps)
{
  g_return_val_if_fail (wkp_rational_is_valid (fps), 0);
  /* ceil: the first whole microsecond that lies inside the frame, so that
   * wkp_us_to_frame (wkp_frame_to_us (i)) == i for every i */
  return -wkp_muldiv_floor (-frame, (gint64) fps.den * WKP_USEC_PER_SEC, fps.num);
}

gint64
wkp_us_to_frame (gint64 us, WkpRational fps)
{
  g_return_val_if_fail (wkp_rational_is_valid (fps), 0);
  return wkp_muldiv_floor (us, fps.num, (gint64) fps.den * WKP_USEC_PER_SEC);
}

gint64
wkp_frame_to_sample (gint64 frame, WkpRational fps, gint rate)
{
  g_return_val_if_fail (wkp_rational_is_valid (fps) && rate > 0, 0);
  return wkp_muldiv_floor (frame, (gint64) fps.den * rate, fps.num);
}

gint64
wkp_us_to_sample (gint64 us, gint rate)
{
  g_return_val_if_fail (rate > 0, 0);
  return wkp_muldiv_floor (us, rate, WKP_USEC_PER_SEC);
}

gint64
wkp_frames_for_samples (gint64 n_samples, WkpRational fps, gint rate)
{
  g_return_val_if_fail (wkp_rational_is_valid (fps) && rate > 0, 0);
  if (n_samples <= 0)
    return 0;
  /* ceil (n * num / (den * rate)) */
  return -wkp_muldiv_floor (-n_samples, fps.num, (gint64) fps.den * rate);
}
