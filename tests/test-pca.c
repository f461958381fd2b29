/* PCA (LAPACKE) checked against numpy's SVD, plus selection/whitening rules. */
#include "wkp-pca.h"
#include "wkp-npy.h"
#include "wkp-test-util.h"

#include <math.h>
#include <string.h>

/* Correlated data: x = z A + noise with a decaying spectrum so that the
 * components are well separated (ratio >= 1.2 between neighbours). */
static float *
make_data (gint64 n, int dim, int rank)
{
  float *x = g_new (float, n * dim);
  g_autofree double *a = g_new (double, (gsize) rank * dim);
  for (int r = 0; r < rank; r++)
    for (int j = 0; j < dim; j++)
      a[r * dim + j] = g_test_rand_double_range (-1, 1) * pow (0.75, r);
  for (gint64 i = 0; i < n; i++)
    {
      double z[64];
      for (int r = 0; r < rank; r++)
        z[r] = g_test_rand_double_range (-1, 1);
      for (int j = 0; j < dim; j++)
        {
          double v = 0.3 + 0.01 * j + 0.001 * g_test_rand_double_range (-1, 1);
          for (int r = 0; r < rank; r++)
            v += z[r] * a[r * dim + j];
          x[i * dim + j] = (float) v;
        }
    }
  return x;
}

static void
test_pca_vs_numpy (void)
{
  const gint64 n = 800;
  const int dim = 40, k = 10;
  g_autofree char *dir = wkp_test_tmpdir ();
  g_autofree char *xpath = g_build_filename (dir, "x.npy", NULL);
  g_autofree char *prefix = g_build_filename (dir, "ref", NULL);
  g_autoptr(GError) error = NULL;
  WkpPcaParams params;

  if (wkp_test_python ("numpy") == NULL)
    return;
  g_autofree float *x = make_data (n, dim, 16);
  /* a few rows with missing values must be skipped by both sides */
  x[5 * dim + 3] = NAN;
  x[77 * dim + 0] = INFINITY;
  gint64 shape[] = { n, dim };
  g_assert_true (wkp_npy_save (xpath, WKP_DTYPE_F32, 2, shape, x, &error));
  g_assert_no_error (error);

  wkp_pca_params_init_default (&params);
  params.n_components = k;
  g_autoptr(WkpPca) pca = wkp_pca_fit (x, n, dim, dim, NULL, &params, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pca->n_components, ==, k);
  g_assert_cmpint (pca->n_samples, ==, n - 2);

  const char *args[] = { xpath, prefix, NULL };
  g_autofree char *out = wkp_test_run_python ("pca_reference.py", args);
  g_autofree char *cpath = g_strconcat (prefix, "_components.npy", NULL);
  g_autofree char *vpath = g_strconcat (prefix, "_variance.npy", NULL);
  g_autofree char *mpath = g_strconcat (prefix, "_mean.npy", NULL);
  g_autoptr(WkpNpy) comp = wkp_npy_load (cpath, &error);
  g_autoptr(WkpNpy) var = wkp_npy_load (vpath, &error);
  g_autoptr(WkpNpy) mean = wkp_npy_load (mpath, &error);
  g_assert_no_error (error);
  const double *c = comp->data, *v = var->data, *m = mean->data;

  /* Tolerances: mean 1e-6 absolute (float32 storage of values ~1);
   * variances 1e-6 relative (both sides accumulate float32 data in double);
   * components |<ours, numpy>| >= 1 - 1e-5 (equal up to sign). */
  for (int j = 0; j < dim; j++)
    g_assert_cmpfloat_with_epsilon (pca->mean[j], m[j], 1e-6);
  double total = 0.0;
  for (int j = 0; j < var->shape[0]; j++)
    total += v[j];
  g_assert_cmpfloat (fabs (pca->total_variance - total) / total, <, 1e-6);
  for (int r = 0; r < k; r++)
    {
      g_assert_cmpfloat (fabs (pca->variance[r] - v[r]) / v[r], <, 1e-6);
      double dot = 0.0, norm = 0.0;
      for (int j = 0; j < dim; j++)
        {
          dot += pca->basis[r * dim + j] * c[r * dim + j];
          norm += (double) pca->basis[r * dim + j] * pca->basis[r * dim + j];
        }
      g_assert_cmpfloat (fabs (norm - 1.0), <, 1e-5);
      g_assert_cmpfloat (fabs (dot), >, 1.0 - 1e-5);
    }
  /* explained-variance ratio printed by numpy */
  g_auto(GStrv) ref_cum = g_strsplit (g_strstrip (out), " ", -1);
  g_assert_cmpint (g_strv_length (ref_cum), ==, 3);
  for (int r = 0; r < 3; r++)
    g_assert_cmpfloat_with_epsilon (wkp_pca_explained (pca, r + 1), g_ascii_strtod (ref_cum[r], NULL), 1e-6);
}

static void
test_pca_select_and_whiten (void)
{
  const gint64 n = 600;
  const int dim = 12;
  g_autoptr(GError) error = NULL;
  g_autofree float *x = make_data (n, dim, 6);
  WkpPcaParams params;

  /* by explained variance: the smallest k reaching the threshold */
  wkp_pca_params_init_default (&params);
  params.min_explained = 0.9;
  g_autoptr(WkpPca) full = wkp_pca_fit (x, n, dim, dim, NULL, &(WkpPcaParams) { dim, 0, FALSE }, &error);
  g_autoptr(WkpPca) sel = wkp_pca_fit (x, n, dim, dim, NULL, &params, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (wkp_pca_explained (full, sel->n_components), >=, 0.9 - 1e-9);
  g_assert_cmpfloat (wkp_pca_explained (full, sel->n_components - 1), <, 0.9);
  g_assert_cmpint (sel->n_components, <, dim);

  /* whitened coefficients have unit sample variance and reconstruct exactly
   * when all components are kept */
  params.n_components = dim;
  params.whiten = TRUE;
  g_autoptr(WkpPca) w = wkp_pca_fit (x, n, dim, dim, NULL, &params, &error);
  g_assert_no_error (error);
  g_autofree float *coef = g_new (float, n * dim);
  g_autofree float *back = g_new (float, n * dim);
  wkp_pca_project (w, x, n, coef);
  wkp_pca_reconstruct (w, coef, n, back);
  for (int c = 0; c < dim; c++)
    {
      double s = 0.0, s2 = 0.0;
      for (gint64 i = 0; i < n; i++)
        {
          s += coef[i * dim + c];
          s2 += (double) coef[i * dim + c] * coef[i * dim + c];
        }
      double varc = (s2 - s * s / n) / (n - 1);
      g_assert_cmpfloat (fabs (s / n), <, 1e-4);
      g_assert_cmpfloat (fabs (varc - 1.0), <, 1e-3);
    }
  for (gint64 i = 0; i < n * dim; i++)
    g_assert_cmpfloat (fabs (back[i] - x[i]), <, 1e-4);
}

static void
test_pca_weights (void)
{
  /* integer weights equal duplicated rows */
  const gint64 n = 300;
  const int dim = 8;
  g_autoptr(GError) error = NULL;
  g_autofree float *x = make_data (n, dim, 5);
  g_autofree float *w = g_new (float, n);
  g_autofree float *xd = g_new (float, 3 * n * dim);
  gint64 nd = 0;
  for (gint64 i = 0; i < n; i++)
    {
      w[i] = (float) (1 + i % 3);
      for (int r = 0; r < 1 + i % 3; r++)
        memcpy (xd + (nd++) * dim, x + i * dim, sizeof (float) * dim);
    }
  WkpPcaParams params = { dim, 0, FALSE };
  g_autoptr(WkpPca) a = wkp_pca_fit (x, n, dim, dim, w, &params, &error);
  g_autoptr(WkpPca) b = wkp_pca_fit (xd, nd, dim, dim, NULL, &params, &error);
  g_assert_no_error (error);
  for (int j = 0; j < dim; j++)
    g_assert_cmpfloat (fabs (a->mean[j] - b->mean[j]), <, 1e-5);
  for (int c = 0; c < dim - 1; c++)
    {
      double dot = 0.0;
      for (int j = 0; j < dim; j++)
        dot += a->basis[c * dim + j] * b->basis[c * dim + j];
      g_assert_cmpfloat (fabs (dot), >, 1.0 - 1e-4);
      /* same eigenvalues up to the (n-1) vs (nd-1) divisor */
      g_assert_cmpfloat (fabs (a->variance[c] * (n - 1) * nd / n - b->variance[c] * (nd - 1)) /
                         (b->variance[c] * (nd - 1)), <, 1e-4);
    }
}

static void
test_pca_errors (void)
{
  float x[4] = { 1, 2, NAN, 4 };
  g_autoptr(GError) error = NULL;
  WkpPcaParams params;
  wkp_pca_params_init_default (&params);
  WkpPca *p = wkp_pca_fit (x, 2, 2, 2, NULL, &params, &error);
  g_assert_null (p);
  g_assert_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  wkp_test_fixed_seed (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pca/numpy", test_pca_vs_numpy);
  g_test_add_func ("/pca/select-whiten", test_pca_select_and_whiten);
  g_test_add_func ("/pca/weights", test_pca_weights);
  g_test_add_func ("/pca/errors", test_pca_errors);
  return g_test_run ();
}
