/* wkp-model.h: the self-describing model file (.wkpm) and prediction.
 *
 * Layout (little-endian): magic "WKPMODEL", u32 format version, u32 header
 * length, header JSON (typed metadata and a tensor table of name, dtype,
 * shape, offset, size), padding, then float32 tensors each aligned to 64 bytes.
 * The loader validates every size, offset and value (NaN/Inf rejected) before
 * use and memory-maps the file.
 *
 * What a model predicts: for each frame, PCA coefficients of the normalised
 * landmark subset (e.g. the mouth 48..67) in the canonical face frame; points
 * outside the subset come from the mean face. The network runs at a fixed
 * internal frame rate (`fps`, audio features computed with `features`) with an
 * ObamaNet-style context window (input at step t = features of frames
 * t-context..t+context) and a time delay (frame t is read from step t+delay);
 * its output is resampled to the requested clip frame rate.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wkp-error.h"
#include "wkp-features.h"
#include "wkp-lstm.h"
#include "wkp-time.h"

G_BEGIN_DECLS

#define WKP_MODEL_MAGIC "WKPMODEL"
#define WKP_MODEL_FORMAT_VERSION 1

typedef struct {
  /* input */
  WkpFeatureConfig features;
  WkpRational      fps;            /* internal frame rate */
  int              context;        /* frames each side stacked into one input step */
  int              delay;          /* output frame t is read at step t + delay */
  float           *feature_mean;   /* [feature dim] normalisation of raw features */
  float           *feature_std;    /* [feature dim] */
  gboolean         per_clip_norm;  /* standardise features per clip before feature_mean/std */

  /* output space */
  int              n_points;       /* landmarks predicted (e.g. 20 for the mouth) */
  int             *point_index;    /* [n_points] indices into 0..67 */
  float           *mean_face;      /* [68, 2] canonical mean face */
  int              n_components;   /* PCA components */
  float           *pca_mean;       /* [n_points*2] */
  float           *pca_basis;      /* [n_components, n_points*2] rows are components */
  float           *pca_scale;      /* [n_components] whitening scale (1.0 if not whitened) */

  /* network */
  WkpLstm         *lstm;           /* input_size = dim*(2*context+1), output_size = n_components */

  /* description */
  JsonNode        *training;       /* training-data summary, config (may be NULL) */
  JsonNode        *metrics;        /* evaluation results (may be NULL) */
  /*< private >*/
  GMappedFile     *map;
} WkpModel;

WkpModel *wkp_model_load             (const char *path, GError **error);
gboolean  wkp_model_save             (const WkpModel *model, const char *path, GError **error);
void      wkp_model_free             (WkpModel *model);
JsonNode *wkp_model_describe         (const WkpModel *model);

/* Refuses features made with another config: the message names the setting. */
gboolean  wkp_model_check_features   (const WkpModel *model, const WkpFeatureConfig *config, GError **error);

/* Predicts canonical-frame landmarks [n_frames, 68, 2] for audio (mono,
 * model->features.sample_rate Hz, sample 0 = frame 0 start) at the clip rate
 * @fps. Frame i covers [i/fps, (i+1)/fps). */
float    *wkp_model_predict_audio    (const WkpModel *model, const float *audio, gint64 n_samples,
                                      WkpRational fps, gint64 n_frames, int n_threads,
                                      GCancellable *cancellable, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpModel, wkp_model_free)

G_END_DECLS
