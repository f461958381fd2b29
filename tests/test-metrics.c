/* Metrics: known answers on synthetic tracks, a numpy reference on random
 * tracks, missing-frame accounting, baselines helpers and plots. */
#include "wkp-face.h"
#include "wkp-metrics.h"
#include "wkp-npy.h"
#include "wkp-plot.h"
#include "wkp-test-util.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define NXY (WKP_N_LANDMARKS * 2)

/* A talking face in the canonical frame: the lower lip moves with a
 * smooth random opening, every point jitters a little. */
static float *
make_canonical_track (gint64 n, double jitter)
{
  float *t = g_new (float, n * NXY);
  const float *canon = wkp_face_canonical ();
  double phase = g_test_rand_double_range (0, 6.28), open = 0.0;

  for (gint64 f = 0; f < n; f++)
    {
      float *face = t + f * NXY;
      /* a random walk pulled towards a slow sine: autocorrelated but not periodic */
      open = 0.7 * open + 0.3 * (0.08 * (1.0 + sin (phase + f * 0.37)) + g_test_rand_double_range (-0.03, 0.03));
      memcpy (face, canon, sizeof (float) * NXY);
      for (int i = 0; i < NXY; i++)
        face[i] += (float) g_test_rand_double_range (-jitter, jitter);
      /* lower lip: outer 55..59, inner 65..67 */
      for (int i = 55; i <= 59; i++)
        face[2 * i + 1] += (float) open;
      for (int i = 65; i <= 67; i++)
        face[2 * i + 1] += (float) open;
    }
  return t;
}

/* Applies a random similarity (scale, rotation, translation) per frame. */
static float *
to_pixels (const float *canon_track, gint64 n, gboolean same_for_all)
{
  float *out = g_new (float, n * NXY);
  WkpSimilarity s = { 0 };
  for (gint64 f = 0; f < n; f++)
    {
      if (f == 0 || !same_for_all)
        {
          double scale = g_test_rand_double_range (60, 220), rot = g_test_rand_double_range (-0.4, 0.4);
          s.a = scale * cos (rot);
          s.b = scale * sin (rot);
          s.tx = g_test_rand_double_range (100, 500);
          s.ty = g_test_rand_double_range (100, 400);
        }
      wkp_similarity_apply (&s, canon_track + f * NXY, out + f * NXY, WKP_N_LANDMARKS);
    }
  return out;
}

static void
set_missing (float *track, gint64 frame)
{
  for (int i = 0; i < NXY; i++)
    track[frame * NXY + i] = NAN;
}

static void
test_identical (void)
{
  gint64 n = 150;
  g_autofree float *canon = make_canonical_track (n, 0.004);
  g_autofree float *ref = to_pixels (canon, n, FALSE);
  WkpMetrics m;

  wkp_metrics_compare_tracks (ref, ref, n, WKP_METRICS_MAX_LAG, &m);
  g_assert_cmpint (m.n_frames, ==, n);
  g_assert_cmpint (m.n_compared, ==, n);
  g_assert_cmpint (m.n_velocity, ==, n - 1);
  g_assert_true (m.has_landmarks);
  g_assert_cmpfloat (m.lmd_mouth, ==, 0.0);
  g_assert_cmpfloat (m.lmd_face, ==, 0.0);
  g_assert_cmpfloat (m.lve, ==, 0.0);
  g_assert_cmpfloat (m.lvd_mouth, ==, 0.0);
  g_assert_cmpfloat (m.lvd_face, ==, 0.0);
  g_assert_cmpfloat (m.aperture_rmse, ==, 0.0);
  g_assert_cmpfloat_with_epsilon (m.aperture_r, 1.0, 1e-12);
  g_assert_cmpint (m.best_lag, ==, 0);
  g_assert_cmpfloat_with_epsilon (m.best_lag_r, 1.0, 1e-12);
  g_assert_cmpfloat (m.aperture_ref_mean, >, 0.0);
}

static void
test_similarity_invariant (void)
{
  gint64 n = 120;
  g_autofree float *canon = make_canonical_track (n, 0.004);
  g_autofree float *ref = to_pixels (canon, n, FALSE);
  /* the same faces, every frame scaled, rotated and moved differently */
  g_autofree float *pred = to_pixels (canon, n, FALSE);
  WkpMetrics m;

  wkp_metrics_compare_tracks (ref, pred, n, WKP_METRICS_MAX_LAG, &m);
  g_assert_cmpint (m.n_compared, ==, n);
  /* float32 pixels of faces ~200 px: round-off ~1e-7 of the inter-ocular distance */
  g_assert_cmpfloat (m.lmd_mouth, <, 1e-5);
  g_assert_cmpfloat (m.lmd_face, <, 1e-5);
  g_assert_cmpfloat (m.lve, <, 1e-5);
  g_assert_cmpfloat (m.lvd_face, <, 1e-5);
  g_assert_cmpfloat (m.aperture_rmse, <, 1e-5);
  g_assert_cmpfloat_with_epsilon (m.aperture_r, 1.0, 1e-6);
  g_assert_cmpint (m.best_lag, ==, 0);
}

static void
test_known_offset (void)
{
  /* Mouth points moved by d (canonical units) in every frame: LMD mouth = d,
   * LMD face = d * 20/68, LVE = d, LVD = 0 (the offset is constant). */
  gint64 n = 60;
  double d = 0.05;
  g_autofree float *ref = make_canonical_track (n, 0.0);
  g_autofree float *pred = g_memdup2 (ref, sizeof (float) * n * NXY);
  double iod = wkp_face_interocular (wkp_face_canonical ());
  WkpMetrics m;

  for (gint64 f = 0; f < n; f++)
    for (int i = WKP_MOUTH_FIRST; i < WKP_MOUTH_FIRST + WKP_MOUTH_COUNT; i++)
      {
        pred[f * NXY + 2 * i] += (float) (d * 0.6);
        pred[f * NXY + 2 * i + 1] += (float) (d * 0.8);
      }
  wkp_metrics_compare_tracks (ref, pred, n, WKP_METRICS_MAX_LAG, &m);
  g_assert_cmpfloat_with_epsilon (m.lmd_mouth, d / iod, 1e-5);
  g_assert_cmpfloat_with_epsilon (m.lmd_face, d / iod * 20.0 / 68.0, 1e-5);
  g_assert_cmpfloat_with_epsilon (m.lve, d / iod, 1e-5);
  g_assert_cmpfloat (m.lvd_mouth, <, 1e-5);
  /* a rigid shift of the whole mouth keeps the aperture */
  g_assert_cmpfloat (m.aperture_rmse, <, 1e-5);
}

static void
test_shift (void)
{
  gint64 n = 200;
  for (int k = -WKP_METRICS_MAX_LAG; k <= WKP_METRICS_MAX_LAG; k++)
    {
      g_autofree float *canon = make_canonical_track (n, 0.002);
      g_autofree float *ref = to_pixels (canon, n, FALSE);
      g_autofree float *pred = g_new (float, n * NXY);
      WkpMetrics m;

      /* prediction late by k frames: pred[t] = ref[t - k] */
      for (gint64 t = 0; t < n; t++)
        {
          if (t - k >= 0 && t - k < n)
            memcpy (pred + t * NXY, ref + (t - k) * NXY, sizeof (float) * NXY);
          else
            set_missing (pred, t);
        }
      wkp_metrics_compare_tracks (ref, pred, n, WKP_METRICS_MAX_LAG, &m);
      g_test_message ("shift %d: r(0) = %.4f, best lag %d r = %.6f", k, m.aperture_r, m.best_lag, m.best_lag_r);
      g_assert_cmpint (m.best_lag, ==, k);
      g_assert_cmpfloat_with_epsilon (m.best_lag_r, 1.0, 1e-9);
      g_assert_cmpint (m.n_pred_missing, ==, ABS (k));
      if (k != 0)
        g_assert_cmpfloat (m.aperture_r, <, 0.999);
    }
}

static void
test_missing (void)
{
  gint64 n = 100;
  g_autofree float *canon = make_canonical_track (n, 0.003);
  g_autofree float *ref = to_pixels (canon, n, FALSE);
  g_autofree float *pred = to_pixels (canon, n, FALSE);
  WkpMetrics m;

  /* reference missing at 3 frames (one of them also missing in pred),
   * prediction missing at 2 others, one degenerate reference face */
  set_missing (ref, 0);
  set_missing (ref, 10);
  set_missing (ref, 11);
  set_missing (pred, 11);
  set_missing (pred, 50);
  set_missing (pred, 99);
  for (int i = 0; i < WKP_N_LANDMARKS; i++)
    {
      ref[70 * NXY + 2 * i] = 5.0f;   /* every point in one place: cannot be normalised */
      ref[70 * NXY + 2 * i + 1] = 7.0f;
    }
  ref[20 * NXY + 5] = NAN;            /* one coordinate is enough */

  wkp_metrics_compare_tracks (ref, pred, n, WKP_METRICS_MAX_LAG, &m);
  g_assert_cmpint (m.n_frames, ==, n);
  g_assert_cmpint (m.n_ref_missing, ==, 5);
  g_assert_cmpint (m.n_pred_missing, ==, 2);
  g_assert_cmpint (m.n_compared, ==, n - 7);
  /* pairs (t-1, t) both compared: 100 frames, excluded 0,10,11,20,50,70,99 */
  g_assert_cmpint (m.n_velocity, ==, 99 - 11);
  g_assert_cmpfloat (m.lmd_face, <, 1e-5);
  g_assert_cmpfloat_with_epsilon (m.aperture_r, 1.0, 1e-6);

  /* a track with no reference at all: counted, metrics undefined, no crash */
  for (gint64 t = 0; t < n; t++)
    set_missing (ref, t);
  wkp_metrics_compare_tracks (ref, pred, n, WKP_METRICS_MAX_LAG, &m);
  g_assert_cmpint (m.n_ref_missing, ==, n);
  g_assert_cmpint (m.n_compared, ==, 0);
  g_assert_true (isnan (m.lmd_mouth) && isnan (m.aperture_r) && isnan (m.aperture_rmse));
  g_assert_true (isnan (m.best_lag_r));

  /* empty input */
  wkp_metrics_compare_tracks (NULL, NULL, 0, WKP_METRICS_MAX_LAG, &m);
  g_assert_cmpint (m.n_frames, ==, 0);
  g_assert_true (isnan (m.lmd_mouth));
}

static void
test_aperture_only (void)
{
  gint64 n = 80;
  g_autofree float *canon = make_canonical_track (n, 0.002);
  g_autofree float *norm = g_new (float, n * NXY);
  g_autofree double *ap = g_new (double, n);
  g_autofree double *pred_ap = g_new (double, n);
  g_autoptr(WkpMetricsAccum) acc = wkp_metrics_accum_new (WKP_METRICS_MAX_LAG);
  double sum_sq = 0.0;
  WkpMetrics m;

  g_assert_cmpint (wkp_metrics_normalize_track (canon, n, norm, ap), ==, n);
  for (gint64 t = 0; t < n; t++)
    {
      pred_ap[t] = 2.0 * ap[t] + 0.01;       /* affine: r = 1, RMSE known */
      sum_sq += (pred_ap[t] - ap[t]) * (pred_ap[t] - ap[t]);
    }
  pred_ap[5] = NAN;
  sum_sq -= (ap[5] + 0.01) * (ap[5] + 0.01);
  wkp_metrics_accum_add_clip (acc, norm, ap, NULL, pred_ap, n);
  wkp_metrics_accum_result (acc, &m);
  g_assert_false (m.has_landmarks);
  g_assert_true (isnan (m.lmd_mouth) && isnan (m.lve) && isnan (m.lvd_mouth));
  g_assert_cmpint (m.n_pred_missing, ==, 1);
  g_assert_cmpfloat_with_epsilon (m.aperture_r, 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (m.aperture_rmse, sqrt (sum_sq / (n - 1)), 1e-9);
}

static void
test_numpy_reference (void)
{
  const char *py = wkp_test_python ("numpy");
  g_autofree char *dir = NULL;
  g_autofree char *canon_path = NULL, *stable_path = NULL;
  g_autoptr(GPtrArray) args = NULL;
  g_autoptr(WkpMetricsAccum) acc = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  const gint64 lengths[] = { 90, 57, 130 };
  const int *stable;
  int n_stable;
  gint64 shape[3] = { WKP_N_LANDMARKS, 2, 0 };
  WkpMetrics m;
  JsonObject *o;

  if (py == NULL)
    return;
  dir = wkp_test_tmpdir ();
  canon_path = g_build_filename (dir, "canonical.npy", NULL);
  stable_path = g_build_filename (dir, "stable.npy", NULL);
  g_assert_true (wkp_npy_save (canon_path, WKP_DTYPE_F32, 2, shape, wkp_face_canonical (), &error));
  stable = wkp_face_stable_points (&n_stable);
  shape[0] = n_stable;
  g_assert_true (wkp_npy_save (stable_path, WKP_DTYPE_I32, 1, shape, stable, &error));
  g_assert_no_error (error);

  args = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (args, g_strdup (canon_path));
  g_ptr_array_add (args, g_strdup (stable_path));
  g_ptr_array_add (args, g_strdup_printf ("%d", WKP_METRICS_MAX_LAG));
  acc = wkp_metrics_accum_new (WKP_METRICS_MAX_LAG);

  for (guint c = 0; c < G_N_ELEMENTS (lengths); c++)
    {
      gint64 n = lengths[c];
      g_autofree float *canon_ref = make_canonical_track (n, 0.01);
      g_autofree float *canon_pred = make_canonical_track (n, 0.02);
      g_autofree float *ref = NULL, *pred = NULL;
      g_autofree float *nref = g_new (float, n * NXY), *npred = g_new (float, n * NXY);
      g_autofree double *aref = g_new (double, n), *apred = g_new (double, n);
      char *ref_path = g_strdup_printf ("%s/ref%u.npy", dir, c);
      char *pred_path = g_strdup_printf ("%s/pred%u.npy", dir, c);
      gint64 tshape[3] = { n, WKP_N_LANDMARKS, 2 };

      /* correlated prediction: half the reference's motion plus its own */
      for (gint64 i = 0; i < n * NXY; i++)
        canon_pred[i] = 0.5f * (canon_pred[i] + canon_ref[i]);
      ref = to_pixels (canon_ref, n, FALSE);
      pred = to_pixels (canon_pred, n, TRUE);
      for (int k = 0; k < 4; k++)
        {
          set_missing (ref, g_test_rand_int_range (0, (gint32) n));
          set_missing (pred, g_test_rand_int_range (0, (gint32) n));
        }
      g_assert_true (wkp_npy_save (ref_path, WKP_DTYPE_F32, 3, tshape, ref, &error));
      g_assert_true (wkp_npy_save (pred_path, WKP_DTYPE_F32, 3, tshape, pred, &error));
      g_ptr_array_add (args, ref_path);
      g_ptr_array_add (args, pred_path);

      wkp_metrics_normalize_track (ref, n, nref, aref);
      wkp_metrics_normalize_track (pred, n, npred, apred);
      wkp_metrics_accum_add_clip (acc, nref, aref, npred, apred, n);
    }
  g_ptr_array_add (args, NULL);
  wkp_metrics_accum_result (acc, &m);

  out = wkp_test_run_python ("metrics_reference.py", (const char * const *) args->pdata);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));

  g_assert_cmpint (m.n_frames, ==, json_object_get_int_member (o, "n_frames"));
  g_assert_cmpint (m.n_compared, ==, json_object_get_int_member (o, "n_compared"));
  g_assert_cmpint (m.n_ref_missing, ==, json_object_get_int_member (o, "n_ref_missing"));
  g_assert_cmpint (m.n_pred_missing, ==, json_object_get_int_member (o, "n_pred_missing"));
  g_assert_cmpint (m.n_velocity, ==, json_object_get_int_member (o, "n_velocity"));
  g_assert_cmpint (m.best_lag, ==, json_object_get_int_member (o, "best_lag"));
  /* Tolerance: the engine normalises into float32 (relative round-off ~1e-7
   * of coordinates ~1), numpy in float64: 1e-5 relative + 1e-6 absolute. */
#define CLOSE(field)                                                              \
  do {                                                                            \
    double want = json_object_get_double_member (o, #field);                     \
    g_test_message ("%-14s C %.9f numpy %.9f", #field, m.field, want);           \
    g_assert_cmpfloat (fabs (m.field - want), <=, 1e-6 + 1e-5 * fabs (want));    \
  } while (0)
  CLOSE (lmd_mouth);
  CLOSE (lmd_face);
  CLOSE (lve);
  CLOSE (lvd_mouth);
  CLOSE (lvd_face);
  CLOSE (aperture_r);
  CLOSE (aperture_rmse);
  CLOSE (aperture_motion);
  CLOSE (best_lag_r);
#undef CLOSE
  /* the random prediction is neither perfect nor unrelated */
  g_assert_cmpfloat (m.aperture_r, >, 0.2);
  g_assert_cmpfloat (m.aperture_r, <, 0.99);
}

static void
test_combine (void)
{
  /* per-clip results recombined = the pooled accumulation, also with a clip
   * picked twice (bootstrap resampling) */
  const gint64 lengths[] = { 40, 75, 120, 9 };
  const int pick[] = { 2, 0, 2, 3, 1 };
  WkpMetrics clips[G_N_ELEMENTS (lengths)], pooled, again;
  g_autoptr(WkpMetricsAccum) all = wkp_metrics_accum_new (WKP_METRICS_MAX_LAG);
  g_autoptr(WkpMetricsAccum) resampled = wkp_metrics_accum_new (WKP_METRICS_MAX_LAG);
  float *ref[G_N_ELEMENTS (lengths)], *pred[G_N_ELEMENTS (lengths)];
  double *aref[G_N_ELEMENTS (lengths)], *apred[G_N_ELEMENTS (lengths)];
  int every[G_N_ELEMENTS (lengths)];
  double lmd, r, rmse;

  for (guint c = 0; c < G_N_ELEMENTS (lengths); c++)
    {
      gint64 n = lengths[c];
      g_autoptr(WkpMetricsAccum) one = wkp_metrics_accum_new (WKP_METRICS_MAX_LAG);
      g_autofree float *a = make_canonical_track (n, 0.01), *b = make_canonical_track (n, 0.01);
      ref[c] = g_new (float, n * NXY);
      pred[c] = g_new (float, n * NXY);
      aref[c] = g_new (double, n);
      apred[c] = g_new (double, n);
      set_missing (a, n / 2);
      wkp_metrics_normalize_track (a, n, ref[c], aref[c]);
      wkp_metrics_normalize_track (b, n, pred[c], apred[c]);
      wkp_metrics_accum_add_clip (one, ref[c], aref[c], pred[c], apred[c], n);
      wkp_metrics_accum_result (one, &clips[c]);
      wkp_metrics_accum_add_clip (all, ref[c], aref[c], pred[c], apred[c], n);
      every[c] = c;
    }
  wkp_metrics_accum_result (all, &pooled);
  wkp_metrics_combine (clips, every, G_N_ELEMENTS (lengths), &lmd, &r, &rmse);
  g_assert_cmpfloat_with_epsilon (lmd, pooled.lmd_mouth, 1e-12);
  g_assert_cmpfloat_with_epsilon (r, pooled.aperture_r, 1e-12);
  g_assert_cmpfloat_with_epsilon (rmse, pooled.aperture_rmse, 1e-12);

  for (guint k = 0; k < G_N_ELEMENTS (pick); k++)
    wkp_metrics_accum_add_clip (resampled, ref[pick[k]], aref[pick[k]], pred[pick[k]], apred[pick[k]], lengths[pick[k]]);
  wkp_metrics_accum_result (resampled, &again);
  wkp_metrics_combine (clips, pick, G_N_ELEMENTS (pick), &lmd, &r, &rmse);
  g_assert_cmpfloat_with_epsilon (lmd, again.lmd_mouth, 1e-12);
  g_assert_cmpfloat_with_epsilon (r, again.aperture_r, 1e-12);
  g_assert_cmpfloat_with_epsilon (rmse, again.aperture_rmse, 1e-12);
  g_assert_cmpfloat (fabs (r - pooled.aperture_r), >, 1e-6);   /* resampling changed something */

  for (guint c = 0; c < G_N_ELEMENTS (lengths); c++)
    {
      g_free (ref[c]);
      g_free (pred[c]);
      g_free (aref[c]);
      g_free (apred[c]);
    }
}

static void
test_helpers (void)
{
  double x[6] = { 1, 2, 3, 4, NAN, 6 }, y[6] = { 3, 5, 7, 9, 100, 13 }, slope = 0, icpt = 0;
  double c[3] = { 1, 1, 1 };
  g_autoptr(GError) error = NULL;
  float audio[1000];
  double env[5];

  g_assert_cmpfloat_with_epsilon (wkp_metrics_pearson (x, y, 6), 1.0, 1e-12);
  g_assert_true (wkp_metrics_linear_fit (x, y, 6, &slope, &icpt, &error));
  g_assert_cmpfloat_with_epsilon (slope, 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (icpt, 1.0, 1e-12);
  g_assert_true (isnan (wkp_metrics_pearson (c, y, 3)));
  g_assert_false (wkp_metrics_linear_fit (c, y, 3, &slope, &icpt, &error));
  g_assert_error (error, WKP_METRICS_ERROR, WKP_ERROR_INVALID);

  /* 25 fps at 1000 Hz: 40 samples per frame; frame 1 silent, frame 2 constant
   * 0.1 (-20 dB), frames past the end at the floor */
  for (int i = 0; i < 1000; i++)
    audio[i] = i < 40 ? 0.5f * (i % 2 ? 1 : -1) : i < 80 ? 0.0f : 0.1f;
  wkp_metrics_energy_envelope (audio, 120, 1000, WKP_RATIONAL (25, 1), 5, env);
  g_assert_cmpfloat_with_epsilon (env[0], 20.0 * log10 (0.5), 1e-6);
  g_assert_cmpfloat (env[1], ==, -100.0);
  g_assert_cmpfloat_with_epsilon (env[2], -20.0, 1e-5);
  g_assert_cmpfloat (env[3], ==, -100.0);
  g_assert_cmpfloat (env[4], ==, -100.0);
}

static gboolean
is_png (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  return g_file_get_contents (path, &data, &len, NULL) && len > 2000 && memcmp (data, "\x89PNG\r\n\x1a\n", 8) == 0;
}

static void
test_plots (void)
{
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *base = g_build_filename (dir, "clip", NULL);
  g_autofree char *png = g_strconcat (base, ".png", NULL), *svg = g_strconcat (base, ".svg", NULL);
  g_autofree char *bars = g_build_filename (dir, "summary", NULL);
  g_autofree char *bars_png = g_strconcat (bars, ".png", NULL);
  g_autofree char *bad = g_build_filename (dir, "missing-folder", "x", NULL);
  g_autofree char *svg_text = NULL;
  g_autoptr(GError) error = NULL;
  gint64 n = 150;
  g_autofree double *ref = g_new (double, n), *a = g_new (double, n), *b = g_new (double, n);
  const char *labels[] = { "model A", "audio-energy baseline" };
  const double *series[] = { a, b };
  const WkpPlotMetric metrics[] = {
    { "LMD mouth", "× IOD", FALSE }, { "aperture r", NULL, TRUE }, { "best lag", "frames", FALSE },
    { "LVE", "× IOD", FALSE },
  };
  const char *models[] = { "default.wkpm", "mean face", "energy" };
  const double values[] = { 0.05, 0.41, 1, 0.1, 0.06, NAN, 0, 0.12, NAN, 0.2, -1, NAN };
  const double lower[] = { 0.04, 0.30, NAN, NAN, 0.05, NAN, NAN, NAN, NAN, -0.05, NAN, NAN };
  const double upper[] = { 0.06, 0.52, NAN, NAN, 0.08, NAN, NAN, NAN, NAN, 0.3, NAN, NAN };

  for (gint64 i = 0; i < n; i++)
    {
      ref[i] = 0.1 + 0.08 * sin (i * 0.3);
      a[i] = 0.1 + 0.06 * sin (i * 0.3 - 0.4);
      b[i] = 0.12;
    }
  ref[40] = ref[41] = NAN;
  g_assert_true (wkp_plot_aperture (base, "clip s1/bbaf2n (test split)", WKP_RATIONAL (25, 1), n, ref,
                                    labels, series, 2, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (is_png (png));
  g_assert_true (g_file_get_contents (svg, &svg_text, NULL, NULL));
  g_assert_nonnull (strstr (svg_text, "<svg"));
  g_assert_true (wkp_plot_bars (bars, "Test split: 3 models", "whiskers: 95% interval", metrics, 4, models, 3, values, lower, upper, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (is_png (bars_png));

  /* an output folder that does not exist: clear error, nothing written */
  g_assert_false (wkp_plot_aperture (bad, "x", WKP_RATIONAL (25, 1), n, ref, labels, series, 2, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "missing-folder"));

  if (g_getenv ("WKP_KEEP_PLOTS") != NULL)
    {
      g_autofree char *keep = g_build_filename (g_getenv ("WKP_KEEP_PLOTS"), "test-clip", NULL);
      g_autofree char *keep_bars = g_build_filename (g_getenv ("WKP_KEEP_PLOTS"), "test-summary", NULL);
      g_assert_true (wkp_plot_aperture (keep, "clip s1/bbaf2n (test split)", WKP_RATIONAL (25, 1), n, ref,
                                        labels, series, 2, NULL, NULL));
      g_assert_true (wkp_plot_bars (keep_bars, "Test split: 3 models", "whiskers: 95% interval", metrics, 4, models, 3, values, lower, upper, NULL, NULL));
    }
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/identical", test_identical);
  g_test_add_func ("/metrics/similarity-invariant", test_similarity_invariant);
  g_test_add_func ("/metrics/known-offset", test_known_offset);
  g_test_add_func ("/metrics/shift-best-lag", test_shift);
  g_test_add_func ("/metrics/missing-frames", test_missing);
  g_test_add_func ("/metrics/aperture-only", test_aperture_only);
  g_test_add_func ("/metrics/numpy-reference", test_numpy_reference);
  g_test_add_func ("/metrics/combine", test_combine);
  g_test_add_func ("/metrics/helpers", test_helpers);
  g_test_add_func ("/metrics/plots", test_plots);
  return g_test_run ();
}
