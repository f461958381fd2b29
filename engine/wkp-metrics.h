/* wkp-metrics.h: evaluation metrics for predicted landmark tracks.
 *
 * Every metric compares a prediction with reference landmarks frame by frame
 * after both faces are normalised into the canonical face frame
 * (wkp_face_normalize: similarity fit on the stable points, so head position,
 * size and in-plane rotation do not count), and every distance is divided by
 * the reference's inter-ocular distance (outer eye corners 36-45) in that
 * frame. Definitions (the README quotes them):
 *
 *   LMD mouth   mean over compared frames of the mean Euclidean distance of
 *               the 20 mouth points 48..67
 *   LMD face    the same over all 68 points
 *   LVD mouth / face
 *               landmark velocity difference: mean over consecutive compared
 *               frame pairs (t-1, t) of the mean over points of
 *               |(ref[t]-ref[t-1]) - (pred[t]-pred[t-1])|, per frame
 *   LVE         lip-vertex error: mean over compared frames of the maximum
 *               distance over the mouth points
 *   aperture r  Pearson correlation at lag 0 of the inner-lip aperture
 *               (wkp_face_inner_aperture: mean of |61-67|, |62-66|, |63-65|
 *               over the inter-ocular distance) of reference and prediction
 *   aperture RMSE
 *               root mean square of their difference (inter-ocular units)
 *   best lag    the lag k in [-max_lag, max_lag] maximising the Pearson
 *               correlation of ref[t] with pred[t+k]; k > 0 means the
 *               prediction is late by k frames (diagnostic of timing error)
 *
 * A frame is compared only when the reference face is present (finite and
 * normalisable) and the prediction is too; excluded frames are counted.
 * Pooled results over many clips are frame-weighted (every compared frame of
 * every clip counts once; correlations over the concatenated pairs, lagged
 * pairs never cross a clip boundary).
 */
#pragma once

#include <glib.h>

#include "wkp-error.h"
#include "wkp-face.h"
#include "wkp-time.h"

G_BEGIN_DECLS

#define WKP_METRICS_MAX_LAG 3

typedef struct {
  gint64 n_frames;        /* frames seen */
  gint64 n_compared;      /* frames compared (both faces present) */
  gint64 n_ref_missing;   /* reference missing: excluded */
  gint64 n_pred_missing;  /* reference present, prediction missing: excluded */
  gint64 n_velocity;      /* consecutive compared pairs used by LVD */
  gboolean has_landmarks; /* FALSE for aperture-only predictions: LMD/LVD/LVE are NaN */
  double lmd_mouth;
  double lmd_face;
  double lvd_mouth;
  double lvd_face;
  double lve;
  double aperture_r;      /* NaN when undefined (fewer than 2 pairs or zero variance) */
  double aperture_rmse;
  double aperture_motion; /* SD of the predicted aperture over the reference's, over the lag-0 pairs:
                           * 1 = as much opening and closing, 0 = a still mouth; NaN when undefined */
  double aperture_ref_mean;
  double aperture_pred_mean;
  int    best_lag;
  double best_lag_r;
  /* lag-0 co-moments of the compared aperture pairs (sums of products of
   * deviations from aperture_ref_mean / aperture_pred_mean), so that clips
   * can be recombined (wkp_metrics_combine) */
  double aperture_cxx;
  double aperture_cyy;
  double aperture_cxy;
} WkpMetrics;

/* Errors of one frame of two normalised faces (NaN when either is missing). */
typedef struct {
  double lmd_mouth;
  double lmd_face;
  double lve;
  double aperture_ref;
  double aperture_pred;
} WkpFrameMetrics;

/* Normalises a track of faces [n_frames, 68, 2] (pixels or any frame) into the
 * canonical frame: @out [n_frames, 68, 2] (may equal @points) gets NaN for
 * faces that are missing or cannot be fitted; @aperture [n_frames] (may be
 * NULL) receives the inner-lip aperture (NaN when missing). Returns the number
 * of usable frames. */
gint64 wkp_metrics_normalize_track (const float *points, gint64 n_frames, float *out, double *aperture);

/* @ref and @pred are normalised faces [68, 2]. */
void   wkp_metrics_frame (const float *ref, const float *pred, WkpFrameMetrics *out);

/* Accumulates frames of one or more clips; wkp_metrics_accum_result() gives
 * the metrics over everything added so far. */
typedef struct _WkpMetricsAccum WkpMetricsAccum;

WkpMetricsAccum *wkp_metrics_accum_new    (int max_lag);
void             wkp_metrics_accum_free   (WkpMetricsAccum *acc);
void             wkp_metrics_accum_reset  (WkpMetricsAccum *acc);
/* Adds one clip. @ref: normalised reference faces [n, 68, 2] (NaN = missing),
 * @ref_aperture [n]. @pred: normalised predicted faces [n, 68, 2], or NULL for
 * an aperture-only prediction; @pred_aperture [n] (NaN = missing). */
void             wkp_metrics_accum_add_clip (WkpMetricsAccum *acc,
                                             const float *ref, const double *ref_aperture,
                                             const float *pred, const double *pred_aperture,
                                             gint64 n_frames);
void             wkp_metrics_accum_result (const WkpMetricsAccum *acc, WkpMetrics *out);

/* Recombines per-clip results: the frame-weighted mouth LMD and the pooled
 * lag-0 aperture r / RMSE of the clips @clips[pick[0..n_pick-1]] (a clip may
 * be picked several times: bootstrap resampling over clips). With every clip
 * picked once this equals the pooled result. NaN when undefined. */
void   wkp_metrics_combine (const WkpMetrics *clips, const int *pick, int n_pick,
                            double *lmd_mouth, double *aperture_r, double *aperture_rmse);

/* One clip at once: normalises both tracks (pixels or canonical), compares. */
void   wkp_metrics_compare_tracks (const float *ref_points, const float *pred_points,
                                   gint64 n_frames, int max_lag, WkpMetrics *out);

/* Sorts @n doubles ascending in place (qsort; NaNs must be removed first). */
void   wkp_metrics_sort (double *v, gsize n);

/* Pearson correlation of the finite pairs of @x and @y (NaN if undefined). */
double wkp_metrics_pearson (const double *x, const double *y, gint64 n);

/* Audio-energy envelope: log10 RMS energy (dB) of each frame's exact sample
 * span [frame_to_sample(i), frame_to_sample(i+1)) of mono @audio at @rate Hz;
 * frames past the end of the audio get the silence floor (-100 dB). */
void   wkp_metrics_energy_envelope (const float *audio, gint64 n_samples, int rate,
                                    WkpRational fps, gint64 n_frames, double *out);

/* Least-squares line y = slope * x + intercept over the finite pairs.
 * Fails with WKP_ERROR_INVALID when fewer than 2 pairs or x is constant. */
gboolean wkp_metrics_linear_fit (const double *x, const double *y, gint64 n,
                                 double *slope, double *intercept, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpMetricsAccum, wkp_metrics_accum_free)

G_END_DECLS
