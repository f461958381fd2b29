/* Time base: exact rational frame grid, no drift. */
#include "wkp-time.h"
#include "wkp-test-util.h"

#include <math.h>
#include <string.h>

static void
test_parse (void)
{
  WkpRational r;
  g_autoptr(GError) error = NULL;

  /* frame rates: 1 to 1000 frames per second */
  g_assert_true (wkp_frame_rate_parse ("29.97", &r, &error));
  g_assert_cmpint (r.num, ==, 30000);
  g_assert_false (wkp_frame_rate_parse ("1/100000", &r, &error));
  g_assert_nonnull (strstr (error->message, "outside 1 to 1000"));
  g_clear_error (&error);
  g_assert_false (wkp_frame_rate_parse ("1001", &r, &error));
  g_clear_error (&error);
  g_assert_true (wkp_frame_rate_parse ("1000", &r, &error));

  g_assert_true (wkp_rational_parse ("30000/1001", &r, &error));
  g_assert_cmpint (r.num, ==, 30000);
  g_assert_cmpint (r.den, ==, 1001);
  g_assert_true (wkp_rational_parse ("29.97", &r, &error));
  g_assert_cmpint (r.num, ==, 30000);
  g_assert_cmpint (r.den, ==, 1001);
  g_assert_true (wkp_rational_parse ("25", &r, &error));
  g_assert_cmpint (r.num, ==, 25);
  g_assert_cmpint (r.den, ==, 1);
  g_assert_true (wkp_rational_parse ("50/2", &r, &error));
  g_assert_cmpint (r.num, ==, 25);
  g_assert_cmpint (r.den, ==, 1);
  g_assert_true (wkp_rational_parse ("12.5", &r, &error));
  g_assert_cmpint (r.num, ==, 25);
  g_assert_cmpint (r.den, ==, 2);
  g_assert_no_error (error);

  const char *bad[] = { "", "abc", "0", "-25", "25/0", "1/x", "30000/", "nan", "25fps" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      g_assert_false (wkp_rational_parse (bad[i], &r, &error));
      g_assert_nonnull (error);
      g_assert_nonnull (strstr (error->message, "frame rate"));
    }
}

/* An hour of 29.97 fps: the sample range of every frame comes from integer
 * arithmetic, consecutive ranges tile the audio exactly (no gap, no overlap),
 * and the last frame ends exactly at the hour's sample count. */
static void
test_hour_no_drift (void)
{
  WkpRational fps = WKP_RATIONAL (30000, 1001);
  const int rate = 16000;
  /* 3600 s * 30000/1001 = 107892.1 frames: use a whole number of 1001-frame
   * cycles (each exactly 33.3667 s) so that the end is exact too. */
  gint64 n_frames = 107892 - 107892 % 1000;  /* 107000 frames = 3570.0...s */
  gint64 prev_end = 0;
  gint64 min_len = G_MAXINT64, max_len = 0;

  for (gint64 i = 0; i < n_frames; i++)
    {
      gint64 a = wkp_frame_to_sample (i, fps, rate);
      gint64 b = wkp_frame_to_sample (i + 1, fps, rate);
      g_assert_cmpint (a, ==, prev_end);
      /* the exact start is i*1001*16000/30000 = i*533.8666..; floor */
      g_assert_cmpint (a, ==, (i * 1001 * 16000) / 30000);
      min_len = MIN (min_len, b - a);
      max_len = MAX (max_len, b - a);
      prev_end = b;
    }
  /* frame lengths are 533 or 534 samples, never anything else */
  g_assert_cmpint (min_len, ==, 533);
  g_assert_cmpint (max_len, ==, 534);
  /* 107000 frames * 1001/30000 s * 16000 = 57,120,533.33 samples */
  g_assert_cmpint (prev_end, ==, (gint64) 107000 * 1001 * 16000 / 30000);

  /* the same in microseconds: 1000 frames are exactly 33.366666 s (floor) */
  g_assert_cmpint (wkp_frame_to_us (30000, fps), ==, G_GINT64_CONSTANT (1001000000));
  g_assert_cmpint (wkp_frame_to_us (107892, fps), ==, G_GINT64_CONSTANT (3599996400));
  /* a floating-point accumulation of 1/29.97 would be off here: */
  {
    double t = 0;
    for (int i = 0; i < 107892; i++)
      t += 1.0 / 29.97;
    g_assert_cmpfloat (fabs (t * 1e6 - 3599996400.0), >, 1000.0);
  }
}

static void
test_roundtrip (void)
{
  WkpRational rates[] = { WKP_RATIONAL (25, 1), WKP_RATIONAL (30000, 1001), WKP_RATIONAL (30, 1),
                          WKP_RATIONAL (50, 1), WKP_RATIONAL (24000, 1001) };
  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    for (gint64 i = 0; i < 200000; i += 37)
      {
        gint64 us = wkp_frame_to_us (i, rates[r]);
        /* the first microsecond of frame i belongs to frame i, the one before
         * to frame i-1 */
        g_assert_cmpint (wkp_us_to_frame (us, rates[r]), ==, i);
        if (i > 0)
          g_assert_cmpint (wkp_us_to_frame (us - 1, rates[r]), ==, i - 1);
      }
  /* frames needed for n samples: ceil */
  g_assert_cmpint (wkp_frames_for_samples (0, WKP_RATIONAL (25, 1), 16000), ==, 0);
  g_assert_cmpint (wkp_frames_for_samples (1, WKP_RATIONAL (25, 1), 16000), ==, 1);
  g_assert_cmpint (wkp_frames_for_samples (640, WKP_RATIONAL (25, 1), 16000), ==, 1);
  g_assert_cmpint (wkp_frames_for_samples (641, WKP_RATIONAL (25, 1), 16000), ==, 2);
  g_assert_cmpint (wkp_frames_for_samples (48000, WKP_RATIONAL (30000, 1001), 16000), ==, 90);
  g_assert_cmpint (wkp_muldiv_floor (-7, 1, 2), ==, -4);
  g_assert_cmpint (wkp_muldiv_floor (G_MAXINT64 / 2, 4, 8), ==, G_MAXINT64 / 4);
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/time/parse", test_parse);
  g_test_add_func ("/time/hour-no-drift", test_hour_no_drift);
  g_test_add_func ("/time/roundtrip", test_roundtrip);
  return g_test_run ();
}
