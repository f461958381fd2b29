/* Widget tests (run under xvfb-run with GSK_RENDERER=cairo).
 *
 * - time <-> pixel and time <-> frame mapping of the views, checked against
 *   the engine's exact wkp-time.h (an independent implementation);
 * - each view rendered with fixture data and compared with a reference image
 *   in tests/reference/ at a stated tolerance: a pixel "differs" when any
 *   channel differs by more than 24/255, and the test fails when more than
 *   0.5 % of the pixels differ or the mean absolute channel error exceeds
 *   1.5/255 (text antialiasing and renderer rounding stay well below that).
 *
 * Regenerating the references (after an intended visual change, after LOOKING
 * at the new images): WKP_UPDATE_REFERENCES=1 meson test -C BUILD widgets
 * writes tests/reference/<view>.png in the source tree.
 */
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "wkp-config.h"
#include "wkp-time.h"
#include "wkp-widgets.h"
#include "wkp-test-util.h"

#define DIFF_THRESHOLD 24
#define MAX_DIFF_FRACTION 0.005
#define MAX_MEAN_ERROR 1.5

/* --- mapping ----------------------------------------------------------------- */

static void
test_time_map_roundtrip (void)
{
  WkpTimeMap map = { 1000000, 4000000, 600.0 };

  g_assert_cmpfloat_with_epsilon (wkp_time_map_to_x (&map, 1000000), 0.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (wkp_time_map_to_x (&map, 4000000), 600.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (wkp_time_map_to_x (&map, 2500000), 300.0, 1e-9);
  /* 5 ms per pixel: x -> us -> x is exact to a microsecond */
  for (int i = 0; i < 1000; i++)
    {
      double x = g_test_rand_double_range (-100, 700);
      gint64 us = wkp_time_map_to_us (&map, x);
      g_assert_cmpfloat (fabs (wkp_time_map_to_x (&map, us) - x), <=, 600.0 / 3000000.0);
    }
  /* degenerate maps do not divide by zero */
  map.end_us = map.start_us;
  g_assert_cmpfloat (wkp_time_map_to_x (&map, 5), ==, 0.0);
  map.width = 0;
  g_assert_cmpint (wkp_time_map_to_us (&map, 10), ==, map.start_us);
}

static void
test_frame_mapping (void)
{
  static const WkpRational rates[] = { { 25, 1 }, { 30000, 1001 }, { 24000, 1001 }, { 60, 1 }, { 100, 4 } };

  for (guint r = 0; r < G_N_ELEMENTS (rates); r++)
    {
      WkpRational fps = rates[r];
      for (int i = 0; i < 2000; i++)
        {
          gint64 us = g_test_rand_int_range (0, G_MAXINT32) * (gint64) g_test_rand_int_range (1, 2000);
          gint64 frame = g_test_rand_int_range (0, G_MAXINT32);
          g_assert_cmpint (wkp_view_frame_at (us, fps.num, fps.den), ==, wkp_us_to_frame (us, fps));
          g_assert_cmpint (wkp_view_frame_start (frame, fps.num, fps.den), ==, wkp_frame_to_us (frame, fps));
        }
      /* every frame start maps back to its frame, and the microsecond before
       * it to the previous frame */
      for (gint64 f = 1; f < 5000; f += 7)
        {
          gint64 t = wkp_view_frame_start (f, fps.num, fps.den);
          g_assert_cmpint (wkp_view_frame_at (t, fps.num, fps.den), ==, f);
          g_assert_cmpint (wkp_view_frame_at (t - 1, fps.num, fps.den), ==, f - 1);
        }
    }
  /* an hour of 29.97 fps: 107892 frames (+ a fraction), no drift */
  g_assert_cmpint (wkp_view_frame_at (G_GINT64_CONSTANT (3600000000), 30000, 1001), ==, 107892);
  g_assert_cmpint (wkp_view_frame_start (107892, 30000, 1001), ==, 3599996400);
  /* negative times belong to negative frames (floor) */
  g_assert_cmpint (wkp_view_frame_at (-1, 25, 1), ==, -1);
}

static void
test_zoom_pan (void)
{
  gint64 s = 0, e = 10000000;

  /* zoom in by 2 around 5 s keeps 5 s in place */
  wkp_time_range_zoom (&s, &e, 5000000, 0.5, 10000000, 100000);
  g_assert_cmpint (s, ==, 2500000);
  g_assert_cmpint (e, ==, 7500000);
  /* zoom in around the left edge keeps the left edge */
  wkp_time_range_zoom (&s, &e, 2500000, 0.5, 10000000, 100000);
  g_assert_cmpint (s, ==, 2500000);
  g_assert_cmpint (e, ==, 5000000);
  /* zooming far in stops at the minimum span */
  for (int i = 0; i < 30; i++)
    wkp_time_range_zoom (&s, &e, 3000000, 0.5, 10000000, 100000);
  g_assert_cmpint (e - s, ==, 100000);
  g_assert_cmpint (s, <=, 3000000);
  g_assert_cmpint (e, >=, 3000000);
  /* zooming far out stops at the clip */
  for (int i = 0; i < 30; i++)
    wkp_time_range_zoom (&s, &e, 3000000, 2.0, 10000000, 100000);
  g_assert_cmpint (s, ==, 0);
  g_assert_cmpint (e, ==, 10000000);
  /* panning is clamped to the clip */
  s = 1000000, e = 3000000;
  wkp_time_range_pan (&s, &e, -5000000, 10000000);
  g_assert_cmpint (s, ==, 0);
  g_assert_cmpint (e, ==, 2000000);
  wkp_time_range_pan (&s, &e, 50000000, 10000000);
  g_assert_cmpint (s, ==, 8000000);
  g_assert_cmpint (e, ==, 10000000);
}

static void
test_tick_step (void)
{
  WkpTimeMap map = { 0, 3000000, 1200 };
  gint64 step = wkp_timeline_tick_step (&map, 70);
  /* 3 s over 1200 px = 400 px per second: 200 ms ticks are 80 px apart */
  g_assert_cmpint (step, ==, 200000);
  map.end_us = 3600000000;
  step = wkp_timeline_tick_step (&map, 70);
  g_assert_cmpfloat (step * map.width / (double) map.end_us, >=, 70);
}

/* Point indices are labelled spread out first, each point once. */
static void
test_index_order (void)
{
  int order[68];
  gboolean seen[68] = { FALSE };
  int n = wkp_frame_view_index_order (48, 67, order);
  static const int mouth_first[] = { 48, 56, 64, 52, 60 };

  g_assert_cmpint (n, ==, 20);
  for (guint i = 0; i < G_N_ELEMENTS (mouth_first); i++)
    g_assert_cmpint (order[i], ==, mouth_first[i]);
  n = wkp_frame_view_index_order (0, 67, order);
  g_assert_cmpint (n, ==, 68);
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpint (order[i], >=, 0);
      g_assert_cmpint (order[i], <, 68);
      g_assert_false (seen[order[i]]);
      seen[order[i]] = TRUE;
    }
}

/* Ruler labels stay inside the ruler: right of their tick, right-aligned
 * near the right edge, or left out when that would overlap the previous. */
static void
test_ruler_label_x (void)
{
  double x = -1;
  /* room: right of the tick */
  g_assert_true (wkp_timeline_label_x (100, 50, 400, -G_MAXDOUBLE, &x));
  g_assert_cmpfloat (x, ==, 103);
  /* the last tick of a 20 s clip at 1268 of 1270 px ("0:" before): right-
   * aligned, ending left of the tick, inside the ruler */
  g_assert_true (wkp_timeline_label_x (1268, 50, 1270, 1141 + 3 + 50, &x));
  g_assert_cmpfloat (x + 50, <=, 1268);
  g_assert_cmpfloat (x, >=, 1141 + 3 + 50);
  /* right-aligned would overlap the previous label: left out */
  g_assert_false (wkp_timeline_label_x (390, 50, 400, 320 + 3 + 50, &x));
  /* a label that does not fit at all on a narrow ruler */
  g_assert_false (wkp_timeline_label_x (20, 50, 40, -G_MAXDOUBLE, &x));
  /* whatever the tick, a placed label is inside the ruler */
  for (int i = 0; i < 500; i++)
    {
      double tick = g_test_rand_double_range (0, 400);
      if (wkp_timeline_label_x (tick, 50, 400, -G_MAXDOUBLE, &x))
        {
          g_assert_cmpfloat (x, >=, 0);
          g_assert_cmpfloat (x + 50, <=, 400);
        }
    }
}

/* The aperture axis labels 0 and steps of 0.1, 0.2, 0.5, 1, ... that leave
 * room for a line of text between labels. */
static void
test_aperture_label_step (void)
{
  /* 0 .. 0.3 over 74 px: 0.1 is 24.7 px apart, room for a 17 px label */
  g_assert_cmpfloat_with_epsilon (wkp_aperture_label_step (0.3, 74, 19), 0.1, 1e-12);
  /* a short plot (34 px): 0.1 would be 11 px apart, 0.2 is 22.7 */
  g_assert_cmpfloat_with_epsilon (wkp_aperture_label_step (0.3, 34, 19), 0.2, 1e-12);
  /* a wide range: 0.5 steps */
  g_assert_cmpfloat_with_epsilon (wkp_aperture_label_step (1.4, 60, 19), 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (wkp_aperture_label_step (12, 100, 19), 5.0, 1e-12);
  /* no room at all: a step above the maximum, so only 0 is labelled */
  g_assert_cmpfloat (wkp_aperture_label_step (0.3, 10, 19), >, 0.3);
  /* degenerate input does not loop or divide by zero */
  g_assert_cmpfloat (wkp_aperture_label_step (0.0, 100, 19), >, 0.0);
  g_assert_cmpfloat (wkp_aperture_label_step (0.3, 0, 19), >, 0.0);
  for (int i = 0; i < 200; i++)
    {
      double y_max = g_test_rand_double_range (0.1, 5.0);
      double ph = g_test_rand_double_range (20, 800);
      double step = wkp_aperture_label_step (y_max, ph, 19);
      g_assert_true (step * ph / y_max >= 19 || step > y_max);
    }
}

/* The overview's thumb: the visible range within the whole clip, at least
 * a few pixels wide, always inside the bar, and none while the whole clip is
 * in view (nothing to scroll). */
static void
test_overview_thumb (void)
{
  double x = -1, w = -1;
  /* the whole clip in view: no thumb */
  g_assert_false (wkp_overview_thumb (10000000, 0, 10000000, 500, 8, &x, &w));
  /* all but its last 10 ms: the thumb fills the bar but that */
  g_assert_true (wkp_overview_thumb (10000000, 0, 9990000, 500, 8, &x, &w));
  g_assert_cmpfloat (x, ==, 0);
  g_assert_cmpfloat_with_epsilon (w, 499.5, 1e-9);
  /* 2 s .. 4 s of 10 s over 500 px */
  g_assert_true (wkp_overview_thumb (10000000, 2000000, 4000000, 500, 8, &x, &w));
  g_assert_cmpfloat_with_epsilon (x, 100, 1e-9);
  g_assert_cmpfloat_with_epsilon (w, 100, 1e-9);
  /* a tiny range is widened about its centre */
  g_assert_true (wkp_overview_thumb (10000000, 5000000, 5010000, 500, 8, &x, &w));
  g_assert_cmpfloat_with_epsilon (w, 8, 1e-9);
  g_assert_cmpfloat_with_epsilon (x + w / 2, 250.25, 1e-9);
  /* ... and kept inside the bar at the end of the clip */
  g_assert_true (wkp_overview_thumb (10000000, 9990000, 10000000, 500, 8, &x, &w));
  g_assert_cmpfloat_with_epsilon (x, 492, 1e-9);
  g_assert_cmpfloat_with_epsilon (w, 8, 1e-9);
  /* a clip shorter than the 1 s view: all of it is in view */
  g_assert_false (wkp_overview_thumb (500000, 0, 1000000, 500, 8, &x, &w));
  /* nothing to show */
  g_assert_false (wkp_overview_thumb (0, 0, 1000000, 500, 8, &x, &w));
  g_assert_false (wkp_overview_thumb (1000000, 0, 1000000, 0, 8, &x, &w));
  g_assert_false (wkp_overview_thumb (1000000, 500, 500, 500, 8, &x, &w));
  for (int i = 0; i < 500; i++)
    {
      gint64 d = g_test_rand_int_range (1, 600000000);
      gint64 s = g_test_rand_int_range (0, (gint32) d);
      gint64 e = s + g_test_rand_int_range (1, (gint32) (d - s + 1));
      double width = g_test_rand_double_range (1, 2000);
      if (s == 0 && e == d)
        {
          g_assert_false (wkp_overview_thumb (d, s, e, width, 8, &x, &w));
          continue;
        }
      g_assert_true (wkp_overview_thumb (d, s, e, width, 8, &x, &w));
      g_assert_cmpfloat (x, >=, 0);
      g_assert_cmpfloat (x + w, <=, width + 1e-9);
      g_assert_cmpfloat (w, >=, MIN (8, width) - 1e-9);
    }
}

/* The mouth view's scale bar: 0.1 inter-ocular where that is long enough to
 * read, longer steps on small panels, shorter on large ones. */
static void
test_mouth_scale_bar (void)
{
  /* a 1280 px window: about 570 px per inter-ocular distance */
  g_assert_cmpfloat (wkp_mouth_scale_bar_units (570, 40), ==, 0.1);
  /* a small panel: 0.1 would be 27 px */
  g_assert_cmpfloat (wkp_mouth_scale_bar_units (270, 40), ==, 0.2);
  /* a large one */
  g_assert_cmpfloat (wkp_mouth_scale_bar_units (1000, 40), ==, 0.05);
  /* degenerate: the longest step */
  g_assert_cmpfloat (wkp_mouth_scale_bar_units (0, 40), ==, 1.0);
  for (int i = 0; i < 200; i++)
    {
      double ppu = g_test_rand_double_range (40, 5000);
      double u = wkp_mouth_scale_bar_units (ppu, 40);
      g_assert_cmpfloat (u * ppu, >=, 40);
    }
}

static void
test_letterbox (void)
{
  graphene_rect_t r;
  /* 360x288 (5:4) into 800x400: pillarboxed, height-limited */
  g_assert_true (wkp_frame_view_compute_letterbox (360, 288, 800, 400, &r));
  g_assert_cmpfloat_with_epsilon (r.size.height, 400, 1e-6);
  g_assert_cmpfloat_with_epsilon (r.size.width, 500, 1e-6);
  g_assert_cmpfloat_with_epsilon (r.origin.x, 150, 1e-6);
  g_assert_cmpfloat_with_epsilon (r.origin.y, 0, 1e-6);
  /* 1920x1080 into 400x400: letterboxed, width-limited */
  g_assert_true (wkp_frame_view_compute_letterbox (1920, 1080, 400, 400, &r));
  g_assert_cmpfloat_with_epsilon (r.size.width, 400, 1e-6);
  g_assert_cmpfloat_with_epsilon (r.size.height, 225, 1e-6);
  g_assert_cmpfloat_with_epsilon (r.origin.y, 87.5, 1e-6);
  g_assert_false (wkp_frame_view_compute_letterbox (0, 10, 100, 100, &r));
  g_assert_false (wkp_frame_view_compute_letterbox (10, 10, 0, 100, &r));
}

static void
test_colormap (void)
{
  guint8 a[3], b[3];
  double prev = -1;
  /* endpoints are viridis' / magma's, lightness rises monotonically */
  wkp_colormap_lookup (WKP_COLORMAP_VIRIDIS, 0.0, a);
  g_assert_cmpint (a[0], ==, 0x44); g_assert_cmpint (a[1], ==, 0x01); g_assert_cmpint (a[2], ==, 0x54);
  wkp_colormap_lookup (WKP_COLORMAP_VIRIDIS, 1.0, a);
  g_assert_cmpint (a[0], ==, 0xfd); g_assert_cmpint (a[1], ==, 0xe7); g_assert_cmpint (a[2], ==, 0x25);
  wkp_colormap_lookup (WKP_COLORMAP_MAGMA, 0.0, b);
  g_assert_cmpint (b[0] + b[1], ==, 0);
  for (WkpColormap m = WKP_COLORMAP_VIRIDIS; m <= WKP_COLORMAP_MAGMA; m++)
    {
      prev = -1;
      for (int i = 0; i <= 100; i++)
        {
          double luma;
          wkp_colormap_lookup (m, i / 100.0, a);
          luma = 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2];
          g_assert_cmpfloat (luma, >=, prev - 1.0);
          prev = luma;
        }
    }
  /* out of range clamps, NaN is black */
  wkp_colormap_lookup (WKP_COLORMAP_VIRIDIS, 7.0, a);
  wkp_colormap_lookup (WKP_COLORMAP_VIRIDIS, 1.0, b);
  g_assert_cmpmem (a, 3, b, 3);
  wkp_colormap_lookup (WKP_COLORMAP_VIRIDIS, NAN, a);
  g_assert_cmpint (a[0] + a[1] + a[2], ==, 0);
}

/* --- rendering ------------------------------------------------------------------ */

static gboolean
quit_loop (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
spin (guint ms)
{
  gboolean done = FALSE;
  g_timeout_add (ms, quit_loop, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static GtkWidget *
show_in_window (GtkWidget *widget, int width, int height)
{
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  gtk_widget_set_size_request (widget, width, height);
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_set_child (GTK_WINDOW (window), widget);
  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (widget) || gtk_widget_get_width (widget) != width ||
         gtk_widget_get_height (widget) != height)
    g_main_context_iteration (NULL, TRUE);
  spin (50);
  return window;
}

static GdkTexture *
render_widget (GtkWidget *widget)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
}

static void
compare_with_reference (GdkTexture *actual, const char *name)
{
  g_autofree char *file = g_strdup_printf ("%s.png", name);
  g_autofree char *ref_path = g_build_filename (WKP_SOURCE_DIR, "tests", "reference", file, NULL);
  g_autofree char *out_path = g_build_filename (WKP_BUILD_DIR, "tests", file, NULL);
  g_autoptr(GdkTexture) reference = NULL;
  g_autoptr(GError) error = NULL;
  int w = gdk_texture_get_width (actual), h = gdk_texture_get_height (actual);
  g_autofree guchar *a = NULL, *b = NULL;
  gsize differ = 0;
  double total = 0;

  if (g_getenv ("WKP_UPDATE_REFERENCES") != NULL)
    {
      g_assert_true (gdk_texture_save_to_png (actual, ref_path));
      g_test_message ("wrote reference %s", ref_path);
      return;
    }
  gdk_texture_save_to_png (actual, out_path);   /* for inspection when it fails */
  reference = gdk_texture_new_from_filename (ref_path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (reference), ==, w);
  g_assert_cmpint (gdk_texture_get_height (reference), ==, h);

  a = g_malloc ((gsize) w * h * 4);
  b = g_malloc ((gsize) w * h * 4);
  gdk_texture_download (actual, a, w * 4);
  gdk_texture_download (reference, b, w * 4);
  for (gsize i = 0; i < (gsize) w * h; i++)
    {
      int worst = 0;
      for (int c = 0; c < 4; c++)
        {
          int d = abs ((int) a[4 * i + c] - (int) b[4 * i + c]);
          worst = MAX (worst, d);
          total += d;
        }
      if (worst > DIFF_THRESHOLD)
        differ++;
    }
  g_test_message ("%s: %" G_GSIZE_FORMAT " of %d pixels differ, mean channel error %.3f (actual in %s)",
                  name, differ, w * h, total / (4.0 * w * h), out_path);
  g_assert_cmpfloat ((double) differ / (w * h), <=, MAX_DIFF_FRACTION);
  g_assert_cmpfloat (total / (4.0 * w * h), <=, MAX_MEAN_ERROR);
}

/* Fixture face: an idealised 68-point face (pixels) built from ellipses so
 * that the test depends on nothing but itself. */
static void
fixture_face (float *pts, double cx, double cy, double s, double open)
{
  /* jaw: lower half ellipse */
  for (int i = 0; i <= 16; i++)
    {
      double t = G_PI * i / 16.0;
      pts[2 * i] = cx - s * cos (t);
      pts[2 * i + 1] = cy + 1.1 * s * sin (t) - 0.1 * s;
    }
  for (int b = 0; b < 2; b++)   /* brows */
    for (int i = 0; i < 5; i++)
      {
        int k = 17 + 5 * b + i;
        double x = (b == 0 ? -0.75 : 0.15) + 0.15 * i;
        pts[2 * k] = cx + s * x;
        pts[2 * k + 1] = cy - s * (0.55 + 0.08 * sin (G_PI * i / 4.0));
      }
  for (int i = 0; i < 4; i++)   /* nose bridge */
    {
      pts[2 * (27 + i)] = cx;
      pts[2 * (27 + i) + 1] = cy - s * (0.35 - 0.14 * i);
    }
  for (int i = 0; i < 5; i++)   /* nostrils */
    {
      pts[2 * (31 + i)] = cx + s * (-0.16 + 0.08 * i);
      pts[2 * (31 + i) + 1] = cy + s * (0.25 + 0.03 * (2 - abs (i - 2)));
    }
  for (int e = 0; e < 2; e++)   /* eyes */
    for (int i = 0; i < 6; i++)
      {
        int k = 36 + 6 * e + i;
        double t = 2 * G_PI * i / 6.0;
        pts[2 * k] = cx + s * ((e == 0 ? -0.42 : 0.42) - 0.16 * cos (t));
        pts[2 * k + 1] = cy - s * (0.3 + 0.06 * sin (t));
      }
  for (int i = 0; i < 12; i++)  /* outer lip */
    {
      double t = 2 * G_PI * i / 12.0;
      pts[2 * (48 + i)] = cx - s * 0.38 * cos (t);
      pts[2 * (48 + i) + 1] = cy + s * (0.62 - (0.12 + open) * sin (t));
    }
  for (int i = 0; i < 8; i++)   /* inner lip */
    {
      double t = 2 * G_PI * i / 8.0;
      pts[2 * (60 + i)] = cx - s * 0.28 * cos (t);
      pts[2 * (60 + i) + 1] = cy + s * (0.62 - open * sin (t));
    }
}

static GdkTexture *
fixture_picture (int w, int h)
{
  guchar *pix = g_malloc ((gsize) w * h * 3);
  g_autoptr(GBytes) bytes = NULL;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guchar *p = pix + ((gsize) y * w + x) * 3;
        p[0] = (guchar) (40 + 150 * x / w);
        p[1] = (guchar) (60 + 120 * y / h);
        p[2] = (guchar) (((x / 20 + y / 20) & 1) ? 170 : 120);
      }
  bytes = g_bytes_new_take (pix, (gsize) w * h * 3);
  return gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8, bytes, w * 3);
}

static void
test_render_frame_view (void)
{
  GtkWidget *view = wkp_frame_view_new ();
  g_autoptr(GdkTexture) picture = fixture_picture (360, 288);
  float pts[136];
  GtkWidget *window;
  g_autoptr(GdkTexture) out = NULL;

  fixture_face (pts, 180, 140, 90, 0.08);
  wkp_frame_view_set_frame (WKP_FRAME_VIEW (view), picture, 12);
  wkp_frame_view_set_landmarks (WKP_FRAME_VIEW (view), pts);
  g_object_set (view, "show-indices", TRUE, NULL);
  g_assert_cmpint (wkp_frame_view_get_index (WKP_FRAME_VIEW (view)), ==, 12);
  window = show_in_window (view, 480, 300);   /* wider than 5:4: pillarboxed */
  out = render_widget (view);
  compare_with_reference (out, "frame-view");

  /* mouth-only changes the picture (the test can fail) */
  {
    g_autoptr(GdkTexture) mouth = NULL;
    gsize size = (gsize) gdk_texture_get_width (out) * gdk_texture_get_height (out) * 4;
    g_autofree guchar *a = g_malloc (size);
    g_autofree guchar *b = g_malloc (size);
    g_object_set (view, "mouth-only", TRUE, NULL);
    spin (30);
    mouth = render_widget (view);
    compare_with_reference (mouth, "frame-view-mouth-only");
    g_assert_cmpint (gdk_texture_get_width (mouth), ==, gdk_texture_get_width (out));
    g_assert_cmpint (gdk_texture_get_height (mouth), ==, gdk_texture_get_height (out));
    gdk_texture_download (out, a, gdk_texture_get_width (out) * 4);
    gdk_texture_download (mouth, b, gdk_texture_get_width (out) * 4);
    g_assert_true (memcmp (a, b, size) != 0);
  }
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Mouth Only zooms to the mouth: a crop of the view's shape around all the
 * mouth points, sized by the face and not by how open the mouth is. */
static void
test_mouth_crop (void)
{
  float pts[136], open_pts[136];
  graphene_rect_t crop, crop_open;

  fixture_face (pts, 180, 140, 90, 0.08);
  fixture_face (open_pts, 180, 140, 90, 0.15);
  g_assert_true (wkp_frame_view_mouth_crop (pts, 1.6, &crop));
  g_assert_cmpfloat_with_epsilon (crop.size.width / crop.size.height, 1.6, 1e-5);
  g_assert_cmpfloat (crop.size.width, <, 360);   /* enlarges the 360 px picture */
  for (int i = 48; i < 68; i++)
    g_assert_true (graphene_rect_contains_point (&crop, &GRAPHENE_POINT_INIT (pts[2 * i], pts[2 * i + 1])));
  g_assert_true (wkp_frame_view_mouth_crop (open_pts, 1.6, &crop_open));
  g_assert_cmpfloat_with_epsilon (crop_open.size.width, crop.size.width, 1e-3);
  for (int i = 48; i < 68; i++)
    g_assert_true (graphene_rect_contains_point (&crop_open,
                                                 &GRAPHENE_POINT_INIT (open_pts[2 * i], open_pts[2 * i + 1])));
  /* no mouth, no crop */
  for (int i = 96; i < 136; i++)
    pts[i] = NAN;
  g_assert_false (wkp_frame_view_mouth_crop (pts, 1.6, &crop));
}

static void
test_render_spectrogram (void)
{
  GtkWidget *view = wkp_spectrogram_view_new ();
  const int steps = 300, coeffs = 13;   /* 3 s at 100 steps per second */
  float *m = g_new (float, steps * coeffs);
  g_autoptr(GBytes) bytes = NULL;
  GtkWidget *window;
  g_autoptr(GdkTexture) out = NULL;

  for (int t = 0; t < steps; t++)
    for (int c = 0; c < coeffs; c++)
      m[t * coeffs + c] = (float) (sin (t * 0.05 * (1 + c * 0.3)) + 0.5 * cos (c * 0.9 + t * 0.01));
  bytes = g_bytes_new_take (m, sizeof (float) * steps * coeffs);
  wkp_spectrogram_view_set_data (WKP_SPECTROGRAM_VIEW (view), bytes, steps, coeffs, 100, 1);
  wkp_time_view_set_duration (WKP_TIME_VIEW (view), 3000000);
  wkp_time_view_set_range (WKP_TIME_VIEW (view), 500000, 2500000);   /* zoomed: 2 s of 3 s */
  wkp_time_view_set_position (WKP_TIME_VIEW (view), 1500000);
  wkp_time_view_set_selection (WKP_TIME_VIEW (view), 1000000, 1250000);
  window = show_in_window (view, 400, 100);
  while (wkp_spectrogram_view_is_rendering (WKP_SPECTROGRAM_VIEW (view)))
    g_main_context_iteration (NULL, TRUE);
  spin (30);
  out = render_widget (view);
  compare_with_reference (out, "spectrogram-view");
  /* the selection (x 100 .. 150) has light edges, whatever the colormap
   * under them */
  {
    int w = gdk_texture_get_width (out);
    g_autofree guchar *px = g_malloc ((gsize) w * gdk_texture_get_height (out) * 4);
    gdk_texture_download (out, px, w * 4);
    for (int y = 0; y < 100; y += 9)
      for (int c = 0; c < 3; c++)
        {
          g_assert_cmpint (px[4 * (y * w + 100) + c], >, 200);
          g_assert_cmpint (px[4 * (y * w + 149) + c], >, 200);
        }
    /* and between its top and bottom bands the coefficients are drawn as
     * without a selection (a veil used to wash them out) */
    {
      g_autoptr(GdkTexture) plain = NULL;
      g_autofree guchar *pp = g_malloc ((gsize) w * gdk_texture_get_height (out) * 4);
      wkp_time_view_set_selection (WKP_TIME_VIEW (view), -1, -1);
      spin (30);
      plain = render_widget (view);
      gdk_texture_download (plain, pp, w * 4);
      for (int y = 6; y < 94; y++)
        for (int x = 104; x < 146; x++)
          for (int c = 0; c < 3; c++)
            g_assert_cmpint (px[4 * (y * w + x) + c], ==, pp[4 * (y * w + x) + c]);
    }
  }
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_render_mouth_view (void)
{
  GtkWidget *view = wkp_mouth_view_new ();
  float extracted[136], predicted[136];
  GtkWidget *window;
  g_autoptr(GdkTexture) out = NULL;

  /* canonical-frame units: inter-ocular 1, mouth near y = 1 */
  fixture_face (extracted, 0, 0.38, 1.0, 0.10);
  fixture_face (predicted, 0.02, 0.38, 1.0, 0.05);
  wkp_mouth_view_set_bounds (WKP_MOUTH_VIEW (view), -0.55, 0.6, 0.55, 1.4);
  wkp_mouth_view_set_extracted (WKP_MOUTH_VIEW (view), extracted);
  wkp_mouth_view_set_predicted (WKP_MOUTH_VIEW (view), predicted);
  wkp_mouth_view_set_note (WKP_MOUTH_VIEW (view), "Model: fixture");
  window = show_in_window (view, 320, 260);
  out = render_widget (view);
  compare_with_reference (out, "mouth-view");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Dark (text) pixels of @texture in the rectangle [x0, x1) x [y0, y1). */
static int
count_dark (GdkTexture *texture, int x0, int y0, int x1, int y1)
{
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture), n = 0;
  g_autofree guchar *px = g_malloc (4 * w * h);
  gdk_texture_download (texture, px, 4 * w);
  for (int y = MAX (y0, 0); y < MIN (y1, h); y++)
    for (int x = MAX (x0, 0); x < MIN (x1, w); x++)
      n += px[4 * (y * w + x) + 1] < 100;   /* (BGRA or RGBA: green is byte 1 in both) */
  return n;
}

/* A note of two lines (the model and the compared model, each named in
 * full: on one line two long names were cut with "…") is drawn a line each,
 * the second at the bottom and the first above it. */
static void
test_mouth_note_lines (void)
{
  GtkWidget *view = wkp_mouth_view_new ();
  float extracted[136];
  GtkWidget *window;
  const int w = 320, h = 260;
  int above[2], bottom[2];

  fixture_face (extracted, 0, 0.38, 1.0, 0.10);
  wkp_mouth_view_set_bounds (WKP_MOUTH_VIEW (view), -0.55, 0.6, 0.55, 1.4);
  wkp_mouth_view_set_extracted (WKP_MOUTH_VIEW (view), extracted);
  window = show_in_window (view, w, h);
  for (int k = 0; k < 2; k++)
    {
      g_autoptr(GdkTexture) out = NULL;
      wkp_mouth_view_set_note (WKP_MOUTH_VIEW (view), k == 0 ? "Model: fixture" : "Model: fixture\nCompared: other");
      spin (50);
      out = render_widget (view);
      above[k] = count_dark (out, 8, h - 40, 120, h - 24);
      bottom[k] = count_dark (out, 8, h - 22, 120, h - 4);
      g_test_message ("note of %d line(s): %d dark pixels in the line above the bottom one, %d in the bottom one",
                      k + 1, above[k], bottom[k]);
    }
  g_assert_cmpint (above[0], ==, 0);
  g_assert_cmpint (bottom[0], >, 30);
  g_assert_cmpint (above[1], >, 30);
  g_assert_cmpint (bottom[1], >, 30);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Match levels: each model's curve drawn with the extracted curve's mean and
 * SD over the frames both have (r unchanged); off, the values themselves;
 * without an extracted curve nothing to match. */
static void
test_aperture_match_levels (void)
{
  WkpAperturePlot *plot = WKP_APERTURE_PLOT (g_object_ref_sink (wkp_aperture_plot_new ()));
  const int n = 200, m = 190;   /* the prediction is shorter */
  float *ex = g_new (float, n), *pr = g_new (float, m);
  g_autoptr(GBytes) be = NULL, bp = NULL;
  double sx = 0, sxx = 0, sy = 0, syy = 0, sxy = 0, ry = 0, rxy = 0, ryy = 0;
  int k = 0;

  for (int i = 0; i < n; i++)
    ex[i] = (float) (0.20 + 0.08 * sin (i * 0.21) + 0.02 * cos (i * 1.7));
  for (int i = 0; i < m; i++)
    pr[i] = (float) (0.07 + 0.015 * sin (i * 0.21 - 0.3));
  ex[40] = NAN;   /* no face: left out of the statistics */
  be = g_bytes_new_take (ex, n * sizeof (float));
  bp = g_bytes_new_take (pr, m * sizeof (float));
  wkp_aperture_plot_set_series (plot, WKP_APERTURE_PREDICTED, bp, m, 25, 1);
  /* no extracted curve: nothing to match */
  wkp_aperture_plot_set_match_levels (plot, TRUE);
  g_assert_cmpfloat (wkp_aperture_plot_drawn_value (plot, WKP_APERTURE_PREDICTED, 5), ==, pr[5]);
  wkp_aperture_plot_set_series (plot, WKP_APERTURE_EXTRACTED, be, n, 25, 1);
  g_assert_true (wkp_aperture_plot_get_match_levels (plot));
  for (int i = 0; i < m; i++)
    {
      double x = ex[i], y = wkp_aperture_plot_drawn_value (plot, WKP_APERTURE_PREDICTED, i);
      g_assert_true (isfinite (y));
      if (!isfinite (x))
        continue;
      sx += x, sxx += x * x, sy += y, syy += y * y, sxy += x * y;
      ry += pr[i], ryy += (double) pr[i] * pr[i], rxy += x * pr[i];
      k++;
    }
  g_assert_cmpint (k, ==, m - 1);
  /* the drawn curve has the extracted mean and SD over those frames */
  g_assert_cmpfloat_with_epsilon (sy / k, sx / k, 1e-6);
  g_assert_cmpfloat_with_epsilon (sqrt (syy / k - (sy / k) * (sy / k)), sqrt (sxx / k - (sx / k) * (sx / k)), 1e-5);
  /* and the same correlation with the extracted curve as the raw values */
  {
    double cov_d = sxy / k - (sx / k) * (sy / k), cov_r = rxy / k - (sx / k) * (ry / k);
    double r_d = cov_d / sqrt ((sxx / k - (sx / k) * (sx / k)) * (syy / k - (sy / k) * (sy / k)));
    double r_r = cov_r / sqrt ((sxx / k - (sx / k) * (sx / k)) * (ryy / k - (ry / k) * (ry / k)));
    g_assert_cmpfloat_with_epsilon (r_d, r_r, 1e-6);
    g_assert_cmpfloat (r_r, >, 0.5);
  }
  /* the extracted curve itself is drawn as it is */
  g_assert_cmpfloat (wkp_aperture_plot_drawn_value (plot, WKP_APERTURE_EXTRACTED, 7), ==, ex[7]);
  {
    /* the axis holds every drawn value: here all above 0 */
    double lo, hi;
    wkp_aperture_plot_get_y_range (plot, &lo, &hi);
    g_assert_cmpfloat (lo, ==, 0.0);
    g_assert_cmpfloat (hi, >=, 0.30);
  }
  {
    /* a spiky extracted curve (mean 0.05, large SD): the matched prediction
     * dips under 0, and the axis goes below 0 with it (it was cut off at
     * the bottom; studio QA) */
    float *spiky = g_new (float, n);
    g_autoptr(GBytes) bs = NULL;
    double lo, hi, low = 0;
    for (int i = 0; i < n; i++)
      spiky[i] = (float) (i % 10 == 0 ? 0.35 : 0.02);
    bs = g_bytes_new_take (spiky, n * sizeof (float));
    wkp_aperture_plot_set_series (plot, WKP_APERTURE_EXTRACTED, bs, n, 25, 1);
    for (int i = 0; i < m; i++)
      low = MIN (low, wkp_aperture_plot_drawn_value (plot, WKP_APERTURE_PREDICTED, i));
    wkp_aperture_plot_get_y_range (plot, &lo, &hi);
    g_test_message ("lowest matched value %.3f, axis %.1f .. %.1f", low, lo, hi);
    g_assert_cmpfloat (low, <, 0);
    g_assert_cmpfloat (lo, <=, low);
    g_assert_cmpfloat (hi, >=, 0.35);
    wkp_aperture_plot_set_series (plot, WKP_APERTURE_EXTRACTED, be, n, 25, 1);
  }
  /* off again: the raw values */
  g_object_set (plot, "match-levels", FALSE, NULL);
  g_assert_cmpfloat (wkp_aperture_plot_drawn_value (plot, WKP_APERTURE_PREDICTED, 5), ==, pr[5]);
  g_assert_true (isnan (wkp_aperture_plot_drawn_value (plot, WKP_APERTURE_PREDICTED, m)));
  g_object_unref (plot);
}

static void
test_render_aperture_plot (void)
{
  GtkWidget *view = wkp_aperture_plot_new ();
  const int n = 75;   /* 3 s at 25 fps */
  float *ex = g_new (float, n), *pr = g_new (float, n);
  g_autoptr(GBytes) be = NULL, bp = NULL;
  GtkWidget *window;
  g_autoptr(GdkTexture) out = NULL;

  for (int i = 0; i < n; i++)
    {
      ex[i] = (float) (0.12 + 0.1 * sin (i * 0.3));
      pr[i] = (float) (0.12 + 0.08 * sin (i * 0.3 - 0.4));
    }
  ex[30] = ex[31] = NAN;   /* a gap: no face */
  be = g_bytes_new_take (ex, n * sizeof (float));
  bp = g_bytes_new_take (pr, n * sizeof (float));
  wkp_aperture_plot_set_series (WKP_APERTURE_PLOT (view), WKP_APERTURE_EXTRACTED, be, n, 25, 1);
  wkp_aperture_plot_set_series (WKP_APERTURE_PLOT (view), WKP_APERTURE_PREDICTED, bp, n, 25, 1);
  wkp_time_view_set_duration (WKP_TIME_VIEW (view), 3000000);
  wkp_time_view_set_range (WKP_TIME_VIEW (view), 0, 3000000);
  wkp_time_view_set_position (WKP_TIME_VIEW (view), 2000000);
  window = show_in_window (view, 400, 120);
  out = render_widget (view);
  compare_with_reference (out, "aperture-plot");
  /* at the end of the clip (where playback stops) the playhead is drawn
   * inside the right edge, not half outside it */
  {
    g_autoptr(GdkTexture) end = NULL;
    int w, h;
    g_autofree guchar *px = NULL;
    wkp_time_view_set_position (WKP_TIME_VIEW (view), 3000000);
    spin (30);
    end = render_widget (view);
    w = gdk_texture_get_width (end);
    h = gdk_texture_get_height (end);
    px = g_malloc ((gsize) w * h * 4);
    gdk_texture_download (end, px, w * 4);
    for (int x = w - 2; x < w; x++)
      {
        const guchar *p = px + 4 * ((h / 2) * w + x);   /* BGRA */
        g_assert_cmpint (p[2], >, 180);
        g_assert_cmpint (p[1], <, 80);
      }
  }
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_render_timeline (void)
{
  GtkWidget *view = wkp_timeline_bar_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) out = NULL;
  wkp_time_view_set_duration (WKP_TIME_VIEW (view), 3000000);
  wkp_time_view_set_range (WKP_TIME_VIEW (view), 0, 3500000);
  wkp_time_view_set_position (WKP_TIME_VIEW (view), 1200000);
  wkp_time_view_set_selection (WKP_TIME_VIEW (view), 400000, 900000);
  window = show_in_window (view, 400, 28);
  out = render_widget (view);
  compare_with_reference (out, "timeline-bar");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_render_overview (void)
{
  GtkWidget *view = wkp_overview_bar_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) out = NULL;
  g_object_set (view, "duration", (gint64) 3000000, "range-start", (gint64) 1000000,
                "range-end", (gint64) 1750000, "position", (gint64) 1200000,
                "selection-start", (gint64) 400000, "selection-end", (gint64) 900000, NULL);
  window = show_in_window (view, 400, 10);
  out = render_widget (view);
  compare_with_reference (out, "overview-bar");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Two runs of one model (an ensemble's members, with the validation loss
 * of a constant prediction, 1.8) and a compared one (without: an older
 * model); an epoch without validation (NaN) leaves a gap. */
static void
add_training_fixture (WkpTrainingPlot *plot)
{
  for (int k = 0; k < 3; k++)
    {
      int n = 30 - 6 * k, best = 0;
      g_autofree int *ep = g_new (int, n);
      g_autofree double *tl = g_new (double, n), *vl = g_new (double, n), *vr = g_new (double, n);
      double top = -1;
      for (int e = 0; e < n; e++)
        {
          ep[e] = e + 1;
          tl[e] = 1.1 * exp (-e / 12.0) + 0.3 + 0.02 * k;
          vl[e] = 1.6 + 0.25 * exp (-e / 5.0) + 0.004 * (e - 12) * (e - 12) / 12.0 + 0.05 * k;
          vr[e] = 0.45 * (1 - exp (-(e + 1) / (4.0 + k))) - 0.004 * MAX (0, e - 16);
          if (vr[e] > top)
            top = vr[e], best = e + 1;
        }
      vl[3] = vr[3] = NAN;
      wkp_training_plot_add_run (plot, k == 0 ? "ens.wkpm, member 1 (s1.wkpm)" : k == 1 ? "ens.wkpm, member 2 (s2.wkpm)"
                                                                                       : "other.wkpm",
                                 k < 2 ? 0 : 1, n, ep, tl, vl, vr, best);
      if (k < 2)
        wkp_training_plot_set_run_constant (plot, k, 1.8);
    }
}

static int
count_substrings (const char *s, const char *what)
{
  int n = 0;
  for (const char *p = strstr (s, what); p != NULL; p = strstr (p + 1, what))
    n++;
  return n;
}

/* The constant prediction's level is a dashed line across the loss panel:
 * one row of the upper half holds dozens of separate dashes in the
 * members' colours (orange, dark red; 7 px on, 4 off over the plot's
 * width), and no row does without the level (a curve crosses a row in a
 * few runs). Returns the most dashes in a row. */
static int
most_dashes_in_a_row (GdkTexture *t, int *row)
{
  const int w = gdk_texture_get_width (t), h = gdk_texture_get_height (t);
  const int colours[2][3] = { { 230, 97, 0 }, { 184, 46, 20 } };   /* the palette's orange shades 0 and 1 */
  g_autofree guchar *px = g_malloc ((gsize) w * h * 4);
  int best = 0;
  gdk_texture_download (t, px, w * 4);
  for (int y = h / 5; y < h / 2; y++)
    {
      int runs = 0;
      gboolean on = FALSE;
      for (int x = 0; x < w; x++)
        {
          const guchar *p = px + ((gsize) y * w + x) * 4;   /* BGRA in memory */
          gboolean member = FALSE;
          for (int c = 0; c < 2; c++)
            member |= ABS (p[2] - colours[c][0]) < 30 && ABS (p[1] - colours[c][1]) < 30
                      && ABS (p[0] - colours[c][2]) < 30;
          runs += member && !on;
          on = member;
        }
      if (runs > best)
        best = runs, *row = y;
    }
  return best;
}

static void
test_training_plot_constant (void)
{
  GtkWidget *view = wkp_training_plot_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) with = NULL, without = NULL;
  int w, row = -1, row2 = -1, n_with, n_without;

  add_training_fixture (WKP_TRAINING_PLOT (view));
  window = show_in_window (view, 560, 380);
  with = render_widget (view);
  wkp_training_plot_set_run_constant (WKP_TRAINING_PLOT (view), 0, NAN);
  wkp_training_plot_set_run_constant (WKP_TRAINING_PLOT (view), 1, NAN);
  spin (50);   /* drawn again */
  without = render_widget (view);
  w = gdk_texture_get_width (with);
  n_with = most_dashes_in_a_row (with, &row);
  n_without = most_dashes_in_a_row (without, &row2);
  g_test_message ("most runs of the members' colours in a row: %d (row %d) with the level, %d (row %d) without",
                  n_with, row, n_without, row2);
  g_assert_cmpint (n_with, >=, (w - 100) / 11 / 2);   /* half the dashes of the plot's width at least */
  g_assert_cmpint (n_without, <, 10);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The rows of @t's columns [0, @x1) holding text (any pixel darker than
 * the grid's light grey), as bands from the bottom up: fills the first two
 * bands' top and bottom rows. */
static void
text_bands_from_bottom (GdkTexture *t, int x1, int band[2][2])
{
  const int w = gdk_texture_get_width (t), h = gdk_texture_get_height (t);
  g_autofree guchar *px = g_malloc ((gsize) w * h * 4);
  int k = -1;
  gboolean in = FALSE;
  gdk_texture_download (t, px, w * 4);
  band[0][0] = band[0][1] = band[1][0] = band[1][1] = -1;
  for (int y = h - 1; y >= 0 && k < 2; y--)
    {
      gboolean dark = FALSE;
      for (int x = 0; x < MIN (x1, w) && !dark; x++)
        {
          const guchar *p = px + ((gsize) y * w + x) * 4;
          dark = p[0] < 170 && p[1] < 170 && p[2] < 170;
        }
      if (dark && !in && ++k < 2)
        band[k][1] = y;
      if (dark && k < 2)
        band[k][0] = y;
      in = dark;
    }
}

/* The lowest label of the r axis (negative here, "-0.1": wider than "0.0")
 * and the epoch axis' labels below it ("epoch", "1") do not touch: a clear
 * gap of rows between them in the left margin (they touched; studio QA). */
static void
test_training_plot_axis_labels (void)
{
  const int ep[] = { 1, 2, 3, 4, 5, 6 };
  const double tl[] = { 1.2, 1.0, 0.9, 0.85, 0.8, 0.78 }, vl[] = { 1.9, 1.8, 1.85, 1.8, 1.82, 1.84 };
  const double vr[] = { -0.08, -0.02, 0.05, 0.12, 0.1, 0.08 };
  GtkWidget *view = wkp_training_plot_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) out = NULL;
  PangoLayout *layout;
  int epoch_w, lh, band[2][2], gap;

  wkp_training_plot_add_run (WKP_TRAINING_PLOT (view), "m.wkpm", 0, 6, ep, tl, vl, vr, 4);
  window = show_in_window (view, 560, 380);
  out = render_widget (view);
  {
    g_autofree char *path = g_build_filename (WKP_BUILD_DIR, "tests", "training-plot-axis-labels.png", NULL);
    gdk_texture_save_to_png (out, path);   /* for inspection */
  }
  layout = gtk_widget_create_pango_layout (view, "epoch");
  pango_layout_get_pixel_size (layout, &epoch_w, &lh);
  g_object_unref (layout);
  /* the margin left of the plot: "epoch" (drawn 8 px in) and the r labels,
   * right-aligned beside it */
  text_bands_from_bottom (out, 8 + epoch_w, band);
  gap = band[0][0] - band[1][1] - 1;
  g_test_message ("epoch row: rows %d-%d; the r axis' lowest label above it: rows %d-%d; gap %d rows (text %d px)",
                  band[0][0], band[0][1], band[1][0], band[1][1], gap, lh);
  g_assert_cmpint (band[1][1], >=, 0);
  g_assert_cmpint (band[0][1] - band[0][0], <, lh);   /* one row of text, not two run together */
  g_assert_cmpint (gap, >=, lh / 4);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Legend entries too long for their column keep the model's name: the
 * member's file goes first, then the middle of the name (they were cut from
 * the start, and two ensembles of the same members' files read alike:
 * "…member 1 (s1.wkpm)"). */
static void
test_training_plot_legend_fit (void)
{
  const char *labels[] = { "logmel-ensemble-h64.wkpm, member 1 (logmel-h64-s1.wkpm)",
                           "mfcc-ensemble-h64.wkpm, member 1 (logmel-h64-s1.wkpm)", "short.csv",
                           "a-model-name-far-too-long-for-any-column-of-the-legend-at-this-width-20261207.wkpm, "
                           "member 2 (s2.wkpm)" };
  const int ep[] = { 1, 2 };
  const double tl[] = { 1.0, 0.9 }, vl[] = { 1.8, 1.7 }, vr[] = { 0.2, 0.3 };
  GtkWidget *view = wkp_training_plot_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) out = NULL;
  gboolean cut = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    wkp_training_plot_add_run (WKP_TRAINING_PLOT (view), labels[i], MIN (i, 2), 2, ep, tl, vl, vr, 2);
  window = show_in_window (view, 620, 380);   /* two columns of 302 px */
  out = render_widget (view);
  {
    g_autofree char *a = wkp_training_plot_get_legend_text (WKP_TRAINING_PLOT (view), 0, &cut);
    g_assert_cmpstr (a, ==, "logmel-ensemble-h64.wkpm, member 1");
    g_assert_false (cut);
  }
  {
    g_autofree char *b = wkp_training_plot_get_legend_text (WKP_TRAINING_PLOT (view), 1, &cut);
    g_assert_cmpstr (b, ==, "mfcc-ensemble-h64.wkpm, member 1");
    g_assert_false (cut);
  }
  {
    g_autofree char *c = wkp_training_plot_get_legend_text (WKP_TRAINING_PLOT (view), 2, &cut);
    g_assert_cmpstr (c, ==, "short.csv");
    g_assert_false (cut);
  }
  {
    /* the name alone is too long: cut in its middle (both ends shown) */
    g_autofree char *d = wkp_training_plot_get_legend_text (WKP_TRAINING_PLOT (view), 3, &cut);
    g_assert_true (g_str_has_prefix (labels[3], d));
    g_assert_true (g_str_has_suffix (d, ", member 2"));
    g_assert_true (cut);
  }
  gtk_window_destroy (GTK_WINDOW (window));
  /* wide enough: whole */
  view = wkp_training_plot_new ();
  wkp_training_plot_add_run (WKP_TRAINING_PLOT (view), labels[0], 0, 2, ep, tl, vl, vr, 2);
  window = show_in_window (view, 620, 380);
  g_clear_object (&out);
  out = render_widget (view);
  {
    g_autofree char *a = wkp_training_plot_get_legend_text (WKP_TRAINING_PLOT (view), 0, &cut);
    g_assert_cmpstr (a, ==, labels[0]);
    g_assert_false (cut);
  }
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_render_training_plot (void)
{
  GtkWidget *view = wkp_training_plot_new ();
  GtkWidget *window;
  g_autoptr(GdkTexture) out = NULL;
  add_training_fixture (WKP_TRAINING_PLOT (view));
  window = show_in_window (view, 560, 380);
  out = render_widget (view);
  compare_with_reference (out, "training-plot");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* What the tooltip says at an epoch: every run that has it, its values,
 * "kept" on the kept epoch, a dash for an undefined value. */
static void
test_training_plot_describe (void)
{
  WkpTrainingPlot *plot = WKP_TRAINING_PLOT (g_object_ref_sink (wkp_training_plot_new ()));
  g_autofree char *at1 = NULL, *at4 = NULL, *at28 = NULL, *at99 = NULL;
  const int ep[] = { 1, 2 };
  const double tl[] = { 1.0, 0.5 }, vl[] = { 2.0, 1.5 }, vr[] = { 0.125, 0.25 };

  g_assert_null (wkp_training_plot_describe_epoch (plot, 1));
  add_training_fixture (plot);
  g_assert_cmpint (wkp_training_plot_get_n_runs (plot), ==, 3);
  at1 = wkp_training_plot_describe_epoch (plot, 1);
  at4 = wkp_training_plot_describe_epoch (plot, 4);
  at28 = wkp_training_plot_describe_epoch (plot, 28);
  at99 = wkp_training_plot_describe_epoch (plot, 99);
  g_test_message ("%s", at4);
  g_assert_true (g_str_has_prefix (at1, "Epoch 1\n"));
  g_assert_nonnull (strstr (at1, "other.wkpm"));              /* all three runs have epoch 1 */
  g_assert_nonnull (strstr (at4, "validation r —"));          /* NaN */
  g_assert_nonnull (strstr (at1, "(constant 1.8000)"));       /* the members' level */
  g_assert_cmpint (count_substrings (at1, "(constant"), ==, 2);  /* not the compared run's */
  g_assert_null (strstr (at28, "other.wkpm"));                /* 18 epochs only */
  g_assert_nonnull (strstr (at28, "member 1"));
  g_assert_null (at99);
  wkp_training_plot_clear (plot);
  g_assert_cmpint (wkp_training_plot_get_n_runs (plot), ==, 0);
  wkp_training_plot_add_run (plot, "m", 0, 2, ep, tl, vl, vr, 2);
  {
    g_autofree char *t = wkp_training_plot_describe_epoch (plot, 2);
    g_assert_cmpstr (t, ==, "Epoch 2\nm (kept):  training loss 0.5000  validation loss 1.5000  validation r 0.250");
  }
  {
    /* logs added one by one (groups 2, 3, 4) each get a colour of their
     * own: they were all drawn in one teal */
    double c[4][3];
    for (int g = 2; g <= 4; g++)
      wkp_training_plot_add_run (plot, "added", g, 2, ep, tl, vl, vr, 2);
    for (int k = 0; k < 4; k++)
      wkp_training_plot_get_run_rgb (plot, k, c[k]);
    for (int a = 0; a < 4; a++)
      for (int b = a + 1; b < 4; b++)
        g_assert_true (c[a][0] != c[b][0] || c[a][1] != c[b][1] || c[a][2] != c[b][2]);
  }
  g_object_unref (plot);
}

/* A drag on a time view asks for a seek at the time under the pointer. */
static void
on_seek (WkpTimeView *view, gint64 us, gint64 *out)
{
  *out = us;
}

static void
test_time_view_properties (void)
{
  GtkWidget *view = g_object_ref_sink (wkp_timeline_bar_new ());
  gint64 s, e, seeked = -1;
  wkp_time_view_set_range (WKP_TIME_VIEW (view), 100, 900);
  wkp_time_view_get_range (WKP_TIME_VIEW (view), &s, &e);
  g_assert_cmpint (s, ==, 100);
  g_assert_cmpint (e, ==, 900);
  wkp_time_view_get_selection (WKP_TIME_VIEW (view), &s, &e);
  g_assert_cmpint (s, ==, -1);
  g_signal_connect (view, "seek", G_CALLBACK (on_seek), &seeked);
  g_signal_emit_by_name (view, "seek", (gint64) 450);
  g_assert_cmpint (seeked, ==, 450);
  g_object_unref (view);
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/widgets/time-map", test_time_map_roundtrip);
  g_test_add_func ("/widgets/frame-mapping", test_frame_mapping);
  g_test_add_func ("/widgets/zoom-pan", test_zoom_pan);
  g_test_add_func ("/widgets/tick-step", test_tick_step);
  g_test_add_func ("/widgets/letterbox", test_letterbox);
  g_test_add_func ("/widgets/aperture-label-step", test_aperture_label_step);
  g_test_add_func ("/widgets/aperture-match-levels", test_aperture_match_levels);
  g_test_add_func ("/widgets/ruler-label-x", test_ruler_label_x);
  g_test_add_func ("/widgets/overview-thumb", test_overview_thumb);
  g_test_add_func ("/widgets/mouth-scale-bar", test_mouth_scale_bar);
  g_test_add_func ("/widgets/index-order", test_index_order);
  g_test_add_func ("/widgets/mouth-crop", test_mouth_crop);
  g_test_add_func ("/widgets/colormap", test_colormap);
  g_test_add_func ("/widgets/time-view-properties", test_time_view_properties);
  g_test_add_func ("/widgets/render/frame-view", test_render_frame_view);
  g_test_add_func ("/widgets/render/spectrogram-view", test_render_spectrogram);
  g_test_add_func ("/widgets/render/mouth-view", test_render_mouth_view);
  g_test_add_func ("/widgets/mouth-note-lines", test_mouth_note_lines);
  g_test_add_func ("/widgets/render/aperture-plot", test_render_aperture_plot);
  g_test_add_func ("/widgets/render/timeline-bar", test_render_timeline);
  g_test_add_func ("/widgets/render/overview-bar", test_render_overview);
  g_test_add_func ("/widgets/render/training-plot", test_render_training_plot);
  g_test_add_func ("/widgets/training-plot-axis-labels", test_training_plot_axis_labels);
  g_test_add_func ("/widgets/training-plot-legend-fit", test_training_plot_legend_fit);
  g_test_add_func ("/widgets/training-plot-describe", test_training_plot_describe);
  g_test_add_func ("/widgets/training-plot-constant", test_training_plot_constant);
  return g_test_run ();
}
