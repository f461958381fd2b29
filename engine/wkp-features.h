/* wkp-features.h: frame-aligned audio features (MFCC or log-mel).
 *
 * One row per video frame. Each frame i is split into `subframes` equal
 * sub-frames on the exact sample grid (sub-frame k of the clip starts at
 * floor (k*den*rate/(num*subframes))); each sub-frame gets an analysis window
 * of `window_ms` centred on the sub-frame's centre (zero-padded outside the
 * audio). A row is the concatenation, over the frame's sub-frames, of
 * [coefficients, deltas, delta-deltas]. Deltas are computed along the
 * sub-frame sequence of the whole clip.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "wkp-time.h"

G_BEGIN_DECLS

typedef enum {
  WKP_FEATURE_MFCC,
  WKP_FEATURE_LOGMEL,
} WkpFeatureKind;

typedef struct {
  WkpFeatureKind kind;
  int    sample_rate;    /* Hz of the input audio (16000) */
  int    subframes;      /* analysis windows per video frame (4) */
  double window_ms;      /* analysis window length (25 ms) */
  int    n_fft;          /* FFT size, >= window length (512) */
  int    n_mels;         /* mel bands (40) */
  int    n_mfcc;         /* cepstral coefficients kept, incl. c0 (13); MFCC only */
  double fmin;           /* mel filterbank range (20 Hz .. 7600 Hz) */
  double fmax;
  double preemphasis;    /* y[n] = x[n] - a x[n-1] (0.97); 0 disables */
  int    deltas;         /* 0: none, 1: +delta, 2: +delta and delta-delta (2) */
  int    delta_width;    /* N of the regression delta (2) */
} WkpFeatureConfig;

void      wkp_feature_config_init_default (WkpFeatureConfig *config);
/* Coefficients per sub-frame (n_mfcc or n_mels). */
int       wkp_feature_config_coeffs       (const WkpFeatureConfig *config);
/* Columns of a row: subframes * coeffs * (1 + deltas). */
int       wkp_feature_config_dim          (const WkpFeatureConfig *config);
gboolean  wkp_feature_config_validate     (const WkpFeatureConfig *config, GError **error);
/* The config as stored in datasets and models (with its row layout in words). */
JsonNode *wkp_feature_config_to_json      (const WkpFeatureConfig *config);
/* The same for identity keys (clip cache, training resume): its row-layout
 * text is the one keys were first made with, so that they stay stable. */
JsonNode *wkp_feature_config_to_key_json  (const WkpFeatureConfig *config);
gboolean  wkp_feature_config_from_json    (JsonNode *node, WkpFeatureConfig *config, GError **error);
/* TRUE if equal; otherwise @diff (if non-NULL) receives e.g.
 * "n_mels: model has 40, features have 80". */
gboolean  wkp_feature_config_equal        (const WkpFeatureConfig *a, const WkpFeatureConfig *b,
                                           const char *a_name, const char *b_name, char **diff);
/* A short stable hash of the config, for cache keys. */
char     *wkp_feature_config_hash         (const WkpFeatureConfig *config);

/* Computes @n_frames rows for audio at config->sample_rate aligned to @fps.
 * Returns a newly allocated float32 [n_frames, dim] array (NULL with
 * n_frames == 0 is not an error: it returns an empty allocation). */
float    *wkp_features_compute            (const WkpFeatureConfig *config, const float *audio,
                                           gint64 n_samples, WkpRational fps, gint64 n_frames,
                                           GError **error);

/* Frequency warping of computed features (vocal tract length perturbation,
 * a training augmentation): each analysis window's spectral envelope is
 * resampled so that what was at f Hz appears at @alpha f. On the mel bands
 * this is linear interpolation between band centres (bands past either end
 * repeat the edge band); MFCC are warped through the log-mel envelope their
 * coefficients describe (DCT^T, warp, DCT: an n_mfcc x n_mfcc matrix). Deltas
 * are linear in time, so one matrix serves every block of a row.
 * Returns [coeffs, coeffs] row-major (out = M in), NULL if @alpha is not in
 * (0.5, 2). */
double   *wkp_features_warp_matrix        (const WkpFeatureConfig *config, double alpha);
/* Applies @matrix (from wkp_features_warp_matrix) to every coefficient block
 * of @n_rows rows of features in place. */
void      wkp_features_warp_rows          (const WkpFeatureConfig *config, const double *matrix, float *rows,
                                           gint64 n_rows);

G_END_DECLS
