/* wkp-pca.c: PCA via the covariance matrix and LAPACKE dsyevd. */
#include "wkp-pca.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

void
wkp_pca_params_init_default (WkpPcaParams *params)
{
  g_return_if_fail (params != NULL);
  params->n_components = 0;
  params->min_explained = 0.95;
  params->whiten = FALSE;
}

void
wkp_pca_free (WkpPca *pca)
{
  if (pca == NULL)
    return;
  g_free (pca->mean);
  g_free (pca->basis);
  g_free (pca->scale);
  g_free (pca->variance);
  g_free (pca);
}

static gboolean
row_usable (const float *row, int dim, const float *weights, gint64 i)
{
  if (weights != NULL && !(weights[i] > 0.0f && isfinite (weights[i])))
    return FALSE;
  for (int j = 0; j < dim; j++)
    if (!isfinite (row[j]))
      return FALSE;
  return TRUE;
}

WkpPca *
wkp_pca_fit (const float *x, gint64 n, int dim, gint64 stride, const float *weights,
             const WkpPcaParams *params, GError **error)
{
  g_return_val_if_fail (x != NULL || n == 0, NULL);
  g_return_val_if_fail (dim > 0 && stride >= dim, NULL);
  g_return_val_if_fail (params != NULL, NULL);

  /* Pass 1: weighted mean. */
  g_autofree double *mean = g_new0 (double, dim);
  double wsum = 0.0;
  gint64 used = 0;
  for (gint64 i = 0; i < n; i++)
    {
      const float *row = x + i * stride;
      if (!row_usable (row, dim, weights, i))
        continue;
      double w = weights ? weights[i] : 1.0;
      for (int j = 0; j < dim; j++)
        mean[j] += w * row[j];
      wsum += w;
      used++;
    }
  if (used < 2)
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_INVALID,
                   "PCA needs at least 2 complete rows, got %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT,
                   used, n);
      return NULL;
    }
  for (int j = 0; j < dim; j++)
    mean[j] /= wsum;

  /* Pass 2: covariance, accumulated with dsyrk over chunks of centred rows. */
  enum { CHUNK = 2048 };
  g_autofree double *cov = g_new0 (double, (gsize) dim * dim);
  g_autofree double *buf = g_new (double, (gsize) CHUNK * dim);
  int filled = 0;
  for (gint64 i = 0; i <= n; i++)
    {
      if (i < n)
        {
          const float *row = x + i * stride;
          if (!row_usable (row, dim, weights, i))
            continue;
          /* normalise weights to sum to `used` so the divisor below is the usual n - 1 */
          double sw = weights ? sqrt (weights[i] * (double) used / wsum) : 1.0;
          for (int j = 0; j < dim; j++)
            buf[(gsize) filled * dim + j] = sw * (row[j] - mean[j]);
          filled++;
        }
      if (filled == CHUNK || (i == n && filled > 0))
        {
          cblas_dsyrk (CblasRowMajor, CblasUpper, CblasTrans, dim, filled, 1.0, buf, dim, 1.0, cov, dim);
          filled = 0;
        }
    }
  for (gsize k = 0; k < (gsize) dim * dim; k++)
    cov[k] /= (double) (used - 1);
  double trace = 0.0;
  for (int j = 0; j < dim; j++)
    trace += cov[(gsize) j * dim + j];

  g_autofree double *eig = g_new (double, dim);
  lapack_int info = LAPACKE_dsyevd (LAPACK_ROW_MAJOR, 'V', 'U', dim, cov, dim, eig);
  if (info != 0)
    {
      g_set_error (error, WKP_TRAIN_ERROR, WKP_ERROR_FAILED,
                   "PCA: LAPACKE_dsyevd failed (info %d)", (int) info);
      return NULL;
    }

  /* Eigenvalues ascend; the eigenvector of eig[j] is column j of cov. */
  int k = params->n_components;
  if (k <= 0)
    {
      double target = params->min_explained > 0.0 ? MIN (params->min_explained, 1.0) : 1.0;
      double acc = 0.0;
      k = 0;
      while (k < dim)
        {
          acc += MAX (eig[dim - 1 - k], 0.0);
          k++;
          if (trace <= 0.0 || acc / trace >= target - 1e-12)
            break;
        }
    }
  k = MIN (k, dim);

  WkpPca *pca = g_new0 (WkpPca, 1);
  pca->dim = dim;
  pca->n_components = k;
  pca->whiten = params->whiten;
  pca->total_variance = trace;
  pca->n_samples = used;
  pca->mean = g_new (float, dim);
  pca->basis = g_new (float, (gsize) k * dim);
  pca->scale = g_new (float, k);
  pca->variance = g_new (double, k);
  for (int j = 0; j < dim; j++)
    pca->mean[j] = (float) mean[j];
  for (int c = 0; c < k; c++)
    {
      int col = dim - 1 - c;
      int arg = 0;
      for (int j = 1; j < dim; j++)
        if (fabs (cov[(gsize) j * dim + col]) > fabs (cov[(gsize) arg * dim + col]))
          arg = j;
      double sign = cov[(gsize) arg * dim + col] < 0.0 ? -1.0 : 1.0;
      for (int j = 0; j < dim; j++)
        pca->basis[(gsize) c * dim + j] = (float) (sign * cov[(gsize) j * dim + col]);
      double v = MAX (eig[col], 0.0);
      pca->variance[c] = v;
      pca->scale[c] = params->whiten ? (float) MAX (sqrt (v), 1e-12) : 1.0f;
    }
  return pca;
}

double
wkp_pca_explained (const WkpPca *pca, int k)
{
  g_return_val_if_fail (pca != NULL, 0.0);
  if (pca->total_variance <= 0.0)
    return 1.0;
  double acc = 0.0;
  for (int c = 0; c < MIN (k, pca->n_components); c++)
    acc += pca->variance[c];
  return acc / pca->total_variance;
}

void
wkp_pca_project (const WkpPca *pca, const float *x, gint64 n, float *coef)
{
  g_return_if_fail (pca != NULL);
  int dim = pca->dim, k = pca->n_components;
  for (gint64 i = 0; i < n; i++)
    for (int c = 0; c < k; c++)
      {
        double acc = 0.0;
        for (int j = 0; j < dim; j++)
          acc += (double) (x[i * dim + j] - pca->mean[j]) * pca->basis[(gsize) c * dim + j];
        coef[i * k + c] = (float) (acc / pca->scale[c]);
      }
}

void
wkp_pca_reconstruct (const WkpPca *pca, const float *coef, gint64 n, float *x)
{
  g_return_if_fail (pca != NULL);
  int dim = pca->dim, k = pca->n_components;
  for (gint64 i = 0; i < n; i++)
    for (int j = 0; j < dim; j++)
      {
        double acc = pca->mean[j];
        for (int c = 0; c < k; c++)
          acc += (double) coef[i * k + c] * pca->scale[c] * pca->basis[(gsize) c * dim + j];
        x[i * dim + j] = (float) acc;
      }
}
