/* Face geometry: similarity fit against a numpy reference, normalisation
 * invariance, degenerate input, inter-ocular distance and lip aperture. */
#include "wkp-face.h"
#include "wkp-npy.h"
#include "wkp-test-util.h"

#include <math.h>
#include <string.h>

#define N2 (WKP_N_LANDMARKS * 2)

static WkpSimilarity
random_similarity (void)
{
  double angle = g_test_rand_double_range (-0.6, 0.6);
  double scale = g_test_rand_double_range (20, 400);
  WkpSimilarity t = { scale * cos (angle), scale * sin (angle),
                      g_test_rand_double_range (-500, 1500), g_test_rand_double_range (-500, 1500) };
  return t;
}

static void
test_canonical (void)
{
  const float *c = wkp_face_canonical ();
  int n;
  const int *idx = wkp_face_stable_points (&n);

  /* The canonical frame as documented: outer eye corners at (-0.5, 0), (0.5, 0). */
  g_assert_cmpfloat_with_epsilon (c[2 * 36], -0.5, 1e-5);
  g_assert_cmpfloat_with_epsilon (c[2 * 36 + 1], 0.0, 1e-5);
  g_assert_cmpfloat_with_epsilon (c[2 * 45], 0.5, 1e-5);
  g_assert_cmpfloat_with_epsilon (c[2 * 45 + 1], 0.0, 1e-5);
  g_assert_cmpfloat_with_epsilon (wkp_face_interocular (c), 1.0, 1e-5);
  /* y down: chin (8) below the nose tip (30) below the eyes; mouth 48 left of 54. */
  g_assert_cmpfloat (c[2 * 8 + 1], >, c[2 * 30 + 1]);
  g_assert_cmpfloat (c[2 * 30 + 1], >, 0);
  g_assert_cmpfloat (c[2 * 48], <, c[2 * 54]);
  g_assert_cmpint (n, >=, 4);
  for (int k = 0; k < n; k++)
    {
      g_assert_cmpint (idx[k], >=, 27);   /* no jaw, brows or mouth */
      g_assert_cmpint (idx[k], <, 48);
    }
  /* A closed mean mouth has a small but positive aperture. */
  g_assert_cmpfloat (wkp_face_inner_aperture (c), >=, 0);
  g_assert_cmpfloat (wkp_face_inner_aperture (c), <, 0.2);
}

/* The fit on noisy, randomly transformed points agrees with an SVD
 * (Umeyama) implementation in numpy to 1e-6 relative. */
static void
test_fit_reference (void)
{
  if (wkp_test_python ("numpy") == NULL)
    return;
  g_autofree char *dir = wkp_test_tmpdir ();
  for (int trial = 0; trial < 5; trial++)
    {
      float src[N2], dst[N2];
      WkpSimilarity truth = random_similarity (), fit;
      g_autoptr(GError) error = NULL;
      g_autofree char *ps = g_build_filename (dir, "src.npy", NULL);
      g_autofree char *pd = g_build_filename (dir, "dst.npy", NULL);
      gint64 shape[2] = { WKP_N_LANDMARKS, 2 };
      double ref[4];

      wkp_test_random_fill (src, N2, -1, 1);
      wkp_similarity_apply (&truth, src, dst, WKP_N_LANDMARKS);
      for (int i = 0; i < N2; i++)
        dst[i] += (float) g_test_rand_double_range (-5, 5);   /* not an exact fit */
      g_assert_true (wkp_npy_save (ps, WKP_DTYPE_F32, 2, shape, src, &error));
      g_assert_true (wkp_npy_save (pd, WKP_DTYPE_F32, 2, shape, dst, &error));
      g_assert_no_error (error);
      const char *args[] = { ps, pd, NULL };
      g_autofree char *out = wkp_test_run_python ("landmarks_procrustes.py", args);
      g_auto(GStrv) words = g_strsplit (g_strstrip (out), " ", -1);
      g_assert_cmpint (g_strv_length (words), ==, 4);
      for (int k = 0; k < 4; k++)
        ref[k] = g_ascii_strtod (words[k], NULL);

      g_assert_true (wkp_similarity_fit (src, dst, NULL, 0, &fit, &error));
      g_assert_no_error (error);
      double scale = hypot (ref[0], ref[1]);
      g_assert_cmpfloat_with_epsilon (fit.a, ref[0], 1e-6 * scale);
      g_assert_cmpfloat_with_epsilon (fit.b, ref[1], 1e-6 * scale);
      g_assert_cmpfloat_with_epsilon (fit.tx, ref[2], 1e-6 * MAX (scale, fabs (ref[2])));
      g_assert_cmpfloat_with_epsilon (fit.ty, ref[3], 1e-6 * MAX (scale, fabs (ref[3])));
      /* and it is close to the transform that made the data */
      g_assert_cmpfloat (fabs (fit.a - truth.a), <, 0.05 * scale);
      g_assert_cmpfloat (fabs (fit.b - truth.b), <, 0.05 * scale);
    }
}

/* A subset fit only sees the listed points. */
static void
test_fit_subset (void)
{
  float src[N2], dst[N2];
  WkpSimilarity truth = random_similarity (), fit;
  g_autoptr(GError) error = NULL;
  const int idx[] = { 3, 10, 40 };

  wkp_test_random_fill (src, N2, -1, 1);
  wkp_similarity_apply (&truth, src, dst, WKP_N_LANDMARKS);
  for (int i = 0; i < N2; i++)
    if (i / 2 != 3 && i / 2 != 10 && i / 2 != 40)
      dst[i] = NAN;   /* garbage elsewhere must not matter */
  g_assert_true (wkp_similarity_fit (src, dst, idx, 3, &fit, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (fit.a, truth.a, 1e-6 * fabs (truth.a) + 1e-4);
  g_assert_cmpfloat_with_epsilon (fit.b, truth.b, 1e-6 * fabs (truth.a) + 1e-4);
  g_assert_cmpfloat_with_epsilon (fit.tx, truth.tx, 1e-3);
  g_assert_cmpfloat_with_epsilon (fit.ty, truth.ty, 1e-3);
}

static void
test_invert (void)
{
  for (int trial = 0; trial < 20; trial++)
    {
      WkpSimilarity t = random_similarity ();
      WkpSimilarity inv = wkp_similarity_invert (&t);
      float p[N2], q[N2], r[N2];
      wkp_test_random_fill (p, N2, -100, 100);
      wkp_similarity_apply (&t, p, q, WKP_N_LANDMARKS);
      wkp_similarity_apply (&inv, q, r, WKP_N_LANDMARKS);
      for (int i = 0; i < N2; i++)
        g_assert_cmpfloat_with_epsilon (r[i], p[i], 1e-3);
    }
}

/* A face rotated, scaled and translated normalises to the same shape, whatever
 * the head pose; mouth shape survives. */
static void
test_normalize_invariance (void)
{
  float face[N2], base[N2], moved[N2], out[N2];
  const float *c = wkp_face_canonical ();
  g_autoptr(GError) error = NULL;
  WkpSimilarity tr;

  /* a face that is not the mean face: open mouth, wider jaw */
  memcpy (face, c, sizeof face);
  for (int i = 0; i < WKP_N_LANDMARKS; i++)
    face[2 * i] += (float) g_test_rand_double_range (-0.03, 0.03);
  for (int i = 56; i <= 58; i++)
    face[2 * i + 1] += 0.15f;
  for (int i = 65; i <= 67; i++)
    face[2 * i + 1] += 0.15f;

  WkpSimilarity tb;
  g_assert_true (wkp_face_normalize (face, base, &tb, &error));
  g_assert_no_error (error);
  for (int trial = 0; trial < 50; trial++)
    {
      WkpSimilarity t = random_similarity ();
      wkp_similarity_apply (&t, face, moved, WKP_N_LANDMARKS);
      g_assert_true (wkp_face_normalize (moved, out, &tr, &error));
      g_assert_no_error (error);
      for (int i = 0; i < N2; i++)
        g_assert_cmpfloat_with_epsilon (out[i], base[i], 1e-4);
      /* the returned transform is the pixel -> canonical map: tr o t == tb */
      g_assert_cmpfloat_with_epsilon (hypot (tr.a, tr.b) * hypot (t.a, t.b), hypot (tb.a, tb.b), 1e-4);
      /* aperture is pose independent too */
      g_assert_cmpfloat_with_epsilon (wkp_face_inner_aperture (moved), wkp_face_inner_aperture (face), 1e-4);
    }
  /* the mean face moved anywhere normalises onto the canonical face */
  WkpSimilarity t = random_similarity ();
  wkp_similarity_apply (&t, c, moved, WKP_N_LANDMARKS);
  g_assert_true (wkp_face_normalize (moved, out, NULL, &error));
  for (int i = 0; i < N2; i++)
    g_assert_cmpfloat_with_epsilon (out[i], c[i], 1e-4);
}

static void
test_degenerate (void)
{
  float pts[N2], out[N2];
  const float *c = wkp_face_canonical ();
  WkpSimilarity t;
  int n;
  const int *idx = wkp_face_stable_points (&n);

  /* all NaN */
  for (int i = 0; i < N2; i++)
    pts[i] = NAN;
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (wkp_face_normalize (pts, out, NULL, &error));
    g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "finite"));
  }
  /* one NaN among the stable points */
  memcpy (pts, c, sizeof pts);
  pts[2 * idx[n / 2] + 1] = NAN;
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (wkp_face_normalize (pts, out, NULL, &error));
    g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID);
  }
  /* infinity */
  memcpy (pts, c, sizeof pts);
  pts[2 * idx[0]] = INFINITY;
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (wkp_face_normalize (pts, out, NULL, &error));
    g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID);
  }
  /* collinear: every point on a slanted line */
  for (int i = 0; i < WKP_N_LANDMARKS; i++)
    {
      pts[2 * i] = 100 + 3.0f * i;
      pts[2 * i + 1] = 50 + 1.5f * i;
    }
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (wkp_face_normalize (pts, out, NULL, &error));
    g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "collinear"));
  }
  /* coincident */
  for (int i = 0; i < N2; i++)
    pts[i] = 42.0f;
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (wkp_face_normalize (pts, out, NULL, &error));
    g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "coincide"));
  }
  /* a degenerate target is refused too (would give a zero scale) */
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (wkp_similarity_fit (c, pts, NULL, 0, &t, &error));
    g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID);
  }
  /* too few points */
  {
    g_autoptr(GError) error = NULL;
    const int one[] = { 5 };
    g_assert_false (wkp_similarity_fit (c, c, one, 1, &t, &error));
    g_assert_error (error, WKP_LANDMARKS_ERROR, WKP_ERROR_INVALID);
  }
}

static void
test_measures (void)
{
  float pts[N2];
  for (int i = 0; i < N2; i++)
    pts[i] = 0;
  pts[2 * 36] = 10;
  pts[2 * 36 + 1] = 20;
  pts[2 * 45] = 13;
  pts[2 * 45 + 1] = 24;   /* distance 5 */
  /* inner lips: gaps 1, 2 and 3 (vertical), 2 (diagonal 1.2, 1.6) */
  pts[2 * 61 + 1] = 0;  pts[2 * 67 + 1] = 1;
  pts[2 * 62 + 1] = 0;  pts[2 * 66 + 1] = -2;
  pts[2 * 63] = 0;      pts[2 * 65] = 1.2f;
  pts[2 * 63 + 1] = 0;  pts[2 * 65 + 1] = 1.6f;
  g_assert_cmpfloat_with_epsilon (wkp_face_interocular (pts), 5.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (wkp_face_inner_aperture (pts), (1.0 + 2.0 + 2.0) / 3 / 5, 1e-6);
  pts[2 * 62] = NAN;
  g_assert_true (isnan (wkp_face_inner_aperture (pts)));
  pts[2 * 45] = NAN;
  g_assert_true (isnan (wkp_face_interocular (pts)));
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/face/canonical", test_canonical);
  g_test_add_func ("/face/fit-reference", test_fit_reference);
  g_test_add_func ("/face/fit-subset", test_fit_subset);
  g_test_add_func ("/face/invert", test_invert);
  g_test_add_func ("/face/normalize-invariance", test_normalize_invariance);
  g_test_add_func ("/face/degenerate", test_degenerate);
  g_test_add_func ("/face/measures", test_measures);
  return g_test_run ();
}
