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
 *
 * Frame-rate independence: features are always computed at the model's own
 * rate, whatever the clip's (25, 29.97, 30, 50 fps ...), so the network sees
 * the same input for the same audio; its PCA coefficients are then linearly
 * interpolated at the centres of the clip's frames ((i + 0.5) / fps, exact
 * rational arithmetic, clamped at both ends) and reconstructed. The same audio
 * predicted for two clip rates therefore gives samples of one curve.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wkp-error.h"
#include "wkp-face.h"
#include "wkp-features.h"
#include "wkp-lstm.h"
#include "wkp-time.h"

G_BEGIN_DECLS

/* Values beyond this magnitude are no trained weight or statistic; they
 * would overflow to Inf/NaN in the first product. */
#define WKP_MODEL_MAX_ABS_VALUE 1e20f

#define WKP_MODEL_MAGIC "WKPMODEL"
#define WKP_MODEL_MAX_MEMBERS 16
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
  /* Clip-level calibration of whole-clip prediction: the clip's mean output
   * (PCA coefficients) is added again times level_gain, so the predicted
   * mouth level of a clip moves (1 + level_gain) times as far from the mean
   * face as the network puts it. The networks are trained on per-speaker
   * deviations (identity removal) and shrink the clip level towards the mean
   * face; the gain is chosen on validation clips. 0: off. Streams leave it
   * out (they do not know the clip's mean in advance). Header field
   * "level_gain" (optional, default 0). */
  double           level_gain;

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
  /* An ensemble: n_members > 1 networks of lstm's shape whose outputs (PCA
   * coefficients) are averaged; lstm is member 0, extra[k - 1] member k.
   * 0 or 1: a single network. In the file, member k's tensors are named
   * "member<k>.lstm..." and "member<k>.head..." and the metadata has
   * "members": n. */
  int              n_members;
  WkpLstm         *extra[WKP_MODEL_MAX_MEMBERS - 1];

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

/* Networks averaged by the model (1 for a single network), and member k. */
int       wkp_model_n_members        (const WkpModel *model);
/* The speakers of one split of a model's training metadata: "train" (those its
 * networks were trained on; a --merge-val run's val speakers included) or "val"
 * (those that chose its best epoch); the union over an ensemble's members, or
 * NULL when the file does not record them (converted models) or names none. */
char    **wkp_model_speakers         (const WkpModel *model, const char *split);
const WkpLstm *wkp_model_member      (const WkpModel *model, int k);

/* An ensemble of @n models (each may itself be an ensemble) that agree on
 * everything but their networks' weights: features, fps, context, delay,
 * normalisation, points, PCA, mean face and network shape (the models one
 * `wav2kp train` run makes on one dataset with different seeds). The
 * result owns copies of every array; its training node lists the members'.
 * A disagreement is an error that names the first differing setting. */
WkpModel *wkp_model_ensemble         (WkpModel *const *models, int n, const char *const *names, GError **error);

/* Refuses features made with another config: the message names the setting. */
gboolean  wkp_model_check_features   (const WkpModel *model, const WkpFeatureConfig *config, GError **error);

/* Predicts canonical-frame landmarks [n_frames, 68, 2] for audio (mono,
 * model->features.sample_rate Hz, sample 0 = frame 0 start) at the clip rate
 * @fps. Frame i covers [i/fps, (i+1)/fps). */
float    *wkp_model_predict_audio    (const WkpModel *model, const float *audio, gint64 n_samples,
                                      WkpRational fps, gint64 n_frames, int n_threads,
                                      GCancellable *cancellable, GError **error);

/* A model with every array allocated (owned, freed by wkp_model_free) and
 * neutral values: feature_mean 0, feature_std 1, mean_face the canonical face,
 * pca_mean 0, pca_basis the first @n_components unit vectors (identity when
 * n_components == n_points*2), pca_scale 1, LSTM weights 0. @points NULL
 * means 0..n_points-1. The caller fills in trained values. */
WkpModel *wkp_model_new              (const WkpFeatureConfig *features, WkpRational fps, int context,
                                      int delay, gboolean per_clip_norm, int n_points, const int *points,
                                      int n_components, int hidden_size, int num_layers,
                                      gboolean bidirectional);
/* The "metadata" object of the model file header (features, fps, context,
 * delay, per_clip_norm, points, n_components, lstm sizes, training, metrics). */
JsonNode *wkp_model_metadata         (const WkpModel *model);

/* The model's tensors in file order, with their file names and expected
 * shapes (ndim 1 or 2); slot points at the model's array pointer. */
typedef struct {
  char   *name;
  int     ndim;
  gint64  shape[2];
  float **slot;
} WkpModelTensor;
/* GArray of WkpModelTensor (names freed with the array). */
GArray   *wkp_model_tensors          (WkpModel *model);

/* Checks dimensions, point indices, finiteness, feature_std > 0: the checks
 * the loader and the saver run. @name names the file in messages. */
gboolean  wkp_model_validate         (const WkpModel *model, const char *name, GError **error);
/* Feature columns the model reads per internal frame. */
int       wkp_model_feature_dim      (const WkpModel *model);

/* The input pipeline, exposed so that training prepares windows exactly like
 * prediction does:
 * 1. wkp_model_normalize_features(): in place on [T, dim]; if per_clip_norm,
 *    each column is first standardised over the clip (mean, population std
 *    floored at WKP_MODEL_STD_FLOOR); then (x - feature_mean) / feature_std.
 * 2. wkp_model_stack_context(): input step t (0 <= t < n_steps) is the
 *    concatenation of frames t-context .. t+context, indices clamped to
 *    [0, T-1] (edge padding; T >= 1).
 * 3. the LSTM runs over n_steps = T + delay steps; output frame t is step
 *    t + delay. */
#define WKP_MODEL_STD_FLOOR 1e-5f
void      wkp_model_normalize_features (const WkpModel *model, float *features, gint64 T);
void      wkp_model_stack_context    (const WkpModel *model, const float *features, gint64 T,
                                      gint64 n_steps, float *out);
/* PCA coefficients [T, n_components] (network outputs) -> canonical
 * landmarks [T, 68, 2]: points = pca_mean + sum_k coeff_k * pca_scale_k *
 * basis_k on the subset, mean_face elsewhere. */
void      wkp_model_reconstruct      (const WkpModel *model, const float *coeffs, gint64 T, float *points);

/* Network outputs (PCA coefficients) [T, n_components] for raw features
 * [T, dim] at the internal rate: normalise (on a copy), stack, run, delay;
 * members averaged; then the level gain: c[t] += level_gain * mean_t c. */
float    *wkp_model_predict_coeffs   (const WkpModel *model, const float *features, gint64 T, int n_threads,
                                      GError **error);
/* The range wkp_model_validate() accepts for level_gain. */
#define WKP_MODEL_LEVEL_GAIN_MAX 10.0
/* Linear interpolation of an internal-rate track [T_in, width] (frame k
 * centred at (k+0.5)/in_fps) at the centres of @n_out frames at @out_fps
 * (clamped at both ends). T_in >= 1. */
void      wkp_model_resample         (const float *in, gint64 T_in, int width, WkpRational in_fps,
                                      float *out, gint64 n_out, WkpRational out_fps);
/* Predicts canonical-frame landmarks [n_frames, 68, 2] from raw features
 * computed with the model's config at the model's fps ([T, dim]), resampled to
 * @n_frames frames at @fps. */
float    *wkp_model_predict_features (const WkpModel *model, const float *features, gint64 T,
                                      WkpRational fps, gint64 n_frames, int n_threads, GError **error);

/* Maps canonical-frame landmarks [n, 68, 2] to a video's pixels, given each
 * frame's pixel->canonical transform (as returned by wkp_face_normalize);
 * frames whose transform is NULL in @valid (may be NULL: all valid) get NaN. */
void      wkp_model_to_pixels        (const float *canonical, gint64 n, const WkpSimilarity *pixel_to_canonical,
                                      const gboolean *valid, float *pixels);

/* Streaming prediction for unidirectional models, fed feature rows (computed
 * with the model's config at its internal fps) chunk by chunk. Returns the
 * internal-rate output frames that became final: frame t needs input step
 * t + delay, which needs feature row t + delay + context, so the output lags
 * delay + context frames; wkp_model_stream_finish() flushes the rest with the
 * same edge padding as whole-utterance mode. With per_clip_norm FALSE the
 * concatenated output equals wkp_model_predict_coeffs() on the whole input
 * (up to float rounding, ~1e-7). With per_clip_norm TRUE the clip statistics
 * are not known in advance: the stream standardises each row with the
 * running mean/std of the rows seen so far (an approximation). */
typedef struct _WkpModelStream WkpModelStream;
WkpModelStream *wkp_model_stream_new    (const WkpModel *model, int n_threads, GError **error);
/* Appends @n rows [n, dim]; *coeffs receives the newly final frames as PCA
 * coefficients [k, n_components] (newly allocated, NULL when k == 0); returns
 * k, or -1 on error. Use wkp_model_reconstruct() for landmarks. */
gint64          wkp_model_stream_push   (WkpModelStream *stream, const float *features, gint64 n,
                                         float **coeffs, GError **error);
/* End of input: the remaining frames. */
gint64          wkp_model_stream_finish (WkpModelStream *stream, float **coeffs, GError **error);
void            wkp_model_stream_free   (WkpModelStream *stream);

/* Audio-level streaming on top of WkpModelStream: push mono audio at
 * features.sample_rate in chunks of any size (e.g. 10 ms); returns the PCA
 * coefficients [k, n_components] of the internal-rate frames that became
 * final. A feature row is computed once the audio a few frames past it has
 * arrived (analysis window and deltas reach ahead; see
 * wkp_model_audio_stream_lag), from a short segment that starts on a frame
 * boundary, so the rows are those of wkp_features_compute() on the whole
 * audio. Needs an internal frame that is a whole number of samples per
 * sub-frame (e.g. 25, 50 or 100 fps at 16 kHz with 4 sub-frames); otherwise
 * WKP_ERROR_UNSUPPORTED. Unidirectional models only. At the end the network's
 * look-ahead past the audio reads features of silence (which do not enter the
 * per-clip statistics), as wkp_model_predict_audio() does: without per-clip
 * normalisation the concatenated output equals wkp_model_predict_coeffs() on
 * the features of the audio followed by context + delay rows of silence
 * (wkp_frames_for_samples() frames kept) up to float rounding. */
typedef struct _WkpModelAudioStream WkpModelAudioStream;
WkpModelAudioStream *wkp_model_audio_stream_new    (const WkpModel *model, int n_threads, GError **error);
gint64               wkp_model_audio_stream_push   (WkpModelAudioStream *stream, const float *audio,
                                                    gint64 n_samples, float **coeffs, GError **error);
gint64               wkp_model_audio_stream_finish (WkpModelAudioStream *stream, float **coeffs, GError **error);
/* The same, continued past the audio (silence) until @min_frames frames have
 * come out in all, as wkp_model_predict_audio() extends a clip that lasts
 * longer than its audio's frames (interpolation at another frame rate reads
 * one frame past the last with audio). */
gint64               wkp_model_audio_stream_finish_frames (WkpModelAudioStream *stream, gint64 min_frames,
                                                           float **coeffs, GError **error);
/* Frames of look-ahead before a feature row is final (the output lags this
 * plus context + delay frames). */
int                  wkp_model_audio_stream_lag    (const WkpModelAudioStream *stream);
void                 wkp_model_audio_stream_free   (WkpModelAudioStream *stream);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpModelAudioStream, wkp_model_audio_stream_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpModel, wkp_model_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpModelStream, wkp_model_stream_free)

G_END_DECLS
