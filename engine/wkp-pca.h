/* wkp-pca.h: principal component analysis of keypoint vectors (LAPACKE).
 *
 * Rows are observations (e.g. the normalised mouth points of one frame,
 * flattened x0 y0 x1 y1 ...). The covariance is accumulated in double
 * precision (sample covariance, divisor n - 1) and diagonalised with LAPACKE
 * dsyevd; components come out sorted by decreasing variance with a fixed sign
 * (the entry of largest magnitude is positive), so results are reproducible.
 *
 * Projection:     coef_k = ((x - mean) . basis_k) / scale_k
 * Reconstruction: x      = mean + sum_k coef_k * scale_k * basis_k
 * scale_k is sqrt(variance_k) when whitened, else 1.
 */
#pragma once

#include <glib.h>

#include "wkp-error.h"

G_BEGIN_DECLS

typedef struct {
  int      n_components;   /* > 0: keep exactly this many (capped at dim) */
  double   min_explained;  /* used when n_components <= 0: smallest count whose
                              cumulative explained-variance ratio reaches this (0..1] */
  gboolean whiten;         /* scale coefficients to unit variance */
} WkpPcaParams;

typedef struct {
  int      dim;
  int      n_components;
  gboolean whiten;
  float   *mean;           /* [dim] */
  float   *basis;          /* [n_components, dim], orthonormal rows */
  float   *scale;          /* [n_components] */
  double  *variance;       /* [n_components] eigenvalues (sample variance along each component) */
  double   total_variance; /* trace of the covariance (all dim components) */
  gint64   n_samples;      /* rows used (rows with NaN/Inf are skipped) */
} WkpPca;

void     wkp_pca_params_init_default (WkpPcaParams *params);

/* Fits @n rows of @dim floats (row stride @stride floats, >= dim). Rows with
 * a non-finite value are skipped; fewer than 2 usable rows is an error.
 * @weights (may be NULL) gives a non-negative weight per row (e.g. to balance
 * speakers); the weighted mean and covariance are used. */
WkpPca  *wkp_pca_fit           (const float *x, gint64 n, int dim, gint64 stride, const float *weights,
                                const WkpPcaParams *params, GError **error);
void     wkp_pca_free          (WkpPca *pca);

/* Fraction of the total variance explained by the first @k components. */
double   wkp_pca_explained     (const WkpPca *pca, int k);

/* @x [n, dim] -> @coef [n, n_components]. */
void     wkp_pca_project       (const WkpPca *pca, const float *x, gint64 n, float *coef);
/* @coef [n, n_components] -> @x [n, dim]. */
void     wkp_pca_reconstruct   (const WkpPca *pca, const float *coef, gint64 n, float *x);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpPca, wkp_pca_free)

G_END_DECLS
