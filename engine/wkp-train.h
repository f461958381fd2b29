/* wkp-train.h: training the speech-to-keypoints model (`wav2kp train`).
 *
 * What is learned: audio features at the model frame rate -> PCA
 * coefficients of the normalised landmark subset (mouth 48..67 or all 68) in
 * the canonical face frame, with a stacked LSTM + linear head (wkp-train-net.h)
 * trained by backpropagation through time, Adam, gradient clipping and a
 * learning-rate schedule.
 *
 * Inputs, ObamaNet style: the input at step s is the (normalised) features of
 * frames s-context .. s+context concatenated, frames outside the clip being the
 * nearest edge frame; the output at step s predicts frame s-delay, so frame t
 * hears audio up to t+delay+context. Features are optionally standardised per
 * clip, then by the train split's mean/std (both stored in the model).
 *
 * Identity removal: targets are each speaker's deviations from that speaker's
 * mean shape, added to the speaker-balanced mean face (so the model predicts
 * motion, not identity; at inference the mean face is the identity).
 *
 * Minibatches are windows of `window` steps sampled from the train split;
 * speakers are sampled with probability proportional to frames^speaker_balance
 * (0: every speaker equally, 1: as in the data), then a clip by length, then a
 * start. Every window starts from a zero state like inference does; steps
 * before `warmup` (unless the window starts at the clip start) are excluded
 * from the loss.
 *
 * Each epoch ends with a validation pass over whole val clips (loss in PCA
 * space and the pooled Pearson r of the inner-lip aperture); the best epoch
 * (by `early_stop` metric) is written atomically to the model path, a
 * checkpoint (weights, Adam state, RNG, log) is written atomically after every
 * epoch, and `resume` continues from it bit-for-bit. With the same seed,
 * thread count and machine, results are bit-identical.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wkp-dataset.h"
#include "wkp-error.h"
#include "wkp-features.h"
#include "wkp-model.h"
#include "wkp-pca.h"
#include "wkp-time.h"

G_BEGIN_DECLS

typedef enum {
  WKP_LR_CONSTANT,   /* lr after the warm-up */
  WKP_LR_COSINE,     /* cosine from lr to lr_min over max_epochs */
} WkpLrSchedule;

typedef enum {
  WKP_EARLY_STOP_APERTURE,   /* highest val aperture Pearson r */
  WKP_EARLY_STOP_LOSS,       /* lowest val loss */
} WkpEarlyStop;

typedef struct {
  /* output space */
  gboolean mouth_only;        /* points 48..67 (TRUE) or all 68 */
  int      n_components;      /* PCA components (0: by pca_min_explained) (10) */
  double   pca_min_explained; /* (0.95) */
  gboolean whiten;            /* unit-variance coefficients (TRUE) */
  gboolean identity_removal;  /* (TRUE) */
  double   identity_rest;     /* > 0: a speaker's reference shape is its rest pose, the mean of its frames
                               * with an inner-lip aperture at most this quantile of its own; 0: its
                               * mean shape (see above) */
  /* input */
  gboolean per_clip_norm;     /* (TRUE) */
  int      context;           /* frames each side (2) */
  int      delay;             /* steps of look-ahead (2) */
  /* network */
  int      hidden_size;       /* (64) */
  int      num_layers;        /* (1) */
  gboolean bidirectional;     /* (FALSE) */
  /* optimisation */
  int      batch_size;        /* windows per step (32) */
  int      window;            /* steps per window (64) */
  int      warmup;            /* steps excluded from the loss at a mid-clip window start (8) */
  int      max_epochs;        /* (40) */
  int      steps_per_epoch;   /* (20); 0: train frames / (batch_size * window), at least 10 */
  double   lr;                /* (1e-3) */
  double   lr_min;            /* (1e-4) */
  int      lr_warmup_steps;   /* linear warm-up (100) */
  WkpLrSchedule schedule;     /* (COSINE) */
  double   beta1, beta2, eps; /* Adam (0.9, 0.999, 1e-8) */
  double   weight_decay;      /* decoupled, AdamW style (1e-4) */
  double   clip_norm;         /* global gradient-norm clip, 0 = off (1.0) */
  double   ema_decay;         /* > 0: validate and save an exponential moving average of the
                                 weights (Polyak averaging) with this decay per step (0) */
  double   velocity_weight;   /* weight of the velocity term (0.5) */
  gboolean variance_weighted; /* weight component errors by their variance share (TRUE) */
  /* sampling */
  double   speaker_balance;   /* exponent, see above (0.5) */
  /* augmentation */
  double   aug_noise;         /* std of Gaussian noise added to normalised features (0.1) */
  double   aug_gain;          /* std of a per-window offset on the energy coefficient(s), normalised units (0.3) */
  int      aug_shift;         /* max frames of random audio/landmark shift per window (1) */
  double   aug_dropout;       /* probability of zeroing an input value (inverted dropout) (0.2) */
  gboolean align_train;       /* train on the clips trained on (train split, and val with merge_val)
                               * that the dataset check flagged with an A/V offset with their audio
                               * shifted by the estimate; validation and test clips untouched (FALSE) */
  double   aug_warp;          /* frequency warp (VTLP): train windows also come from copies of each train
                               * clip's features warped by 1 -+ w and 1 -+ w/2 (0: off) */
  /* validation */
  gboolean merge_val;         /* train on train + val (no validation: the last epoch is kept; use the
                                 epoch count found with a validated run) (FALSE) */
  char   **val_speakers;      /* extra train speakers moved to val, for model selection (NULL) */
  WkpEarlyStop early_stop;    /* (APERTURE) */
  int      patience;          /* epochs without improvement before stopping (8) */
  /* run */
  guint64  seed;              /* (1) */
  int      n_threads;         /* OpenBLAS threads (1) */
  int      stop_after;        /* stop (as if interrupted) after this epoch, 0 = never; not part of the config */
} WkpTrainParams;

void      wkp_train_params_init_default (WkpTrainParams *params);
JsonNode *wkp_train_params_to_json      (const WkpTrainParams *params);

/* ---- the data a run trains on ------------------------------------------- */

typedef struct {
  char    *name;
  char    *speaker;
  WkpSplit split;
  gint64   n_frames;     /* rows at the model fps */
  float   *features;     /* [n_frames, dim] raw features (owned) */
  float   *targets;      /* [n_frames, 68, 2] canonical landmarks, NaN = missing (owned) */
  int      offset_steps; /* confidently estimated A/V offset not corrected in the data, in model frames
                          * (> 0: the audio lags the landmarks); 0 when none (see align_train) */
} WkpTrainClip;

typedef struct {
  WkpFeatureConfig features;
  WkpRational      fps;
  int              dim;
  GPtrArray       *clips;      /* WkpTrainClip* */
  char            *source;     /* description for the model card (dataset path) */
} WkpTrainData;

WkpTrainData *wkp_train_data_new      (const WkpFeatureConfig *config, WkpRational fps);
/* Takes ownership of @features and @targets. */
void          wkp_train_data_add_clip (WkpTrainData *data, const char *name, const char *speaker, WkpSplit split,
                                       gint64 n_frames, float *features, float *targets);
/* Loads every OK clip of a prepared dataset (features + landmarks resampled
 * to the model grid; copies). */
WkpTrainData *wkp_train_data_from_dataset (const WkpDataset *ds, GError **error);
void          wkp_train_data_free     (WkpTrainData *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpTrainData, wkp_train_data_free)

/* ---- running ------------------------------------------------------------- */

typedef struct {
  int    epoch;           /* 1-based */
  int    max_epochs;
  gint64 step;            /* optimiser steps so far */
  double lr;              /* at the end of the epoch */
  double train_loss;      /* mean over the epoch's minibatches */
  double val_loss;        /* NaN when there is no val split */
  double val_r;           /* pooled aperture Pearson r on val (NaN when undefined) */
  double seconds;         /* wall time of the epoch (training + validation) */
  double samples_per_s;   /* training windows per second */
  double eta_s;           /* estimate for the remaining epochs */
  gboolean best;          /* this epoch became the saved model */
  double val_loss_constant; /* val loss of a constant prediction (the PCA mean), NaN without val */
} WkpTrainEpoch;

typedef void (*WkpTrainEpochFunc) (const WkpTrainEpoch *epoch, gpointer user_data);

typedef struct {
  int      epochs_run;    /* epochs completed, including resumed ones */
  int      best_epoch;
  double   best_val_loss;
  double   best_val_r;
  double   val_loss_constant; /* val loss of a constant prediction (the PCA mean), NaN without val */
  double   test_r;        /* pooled aperture r of the best weights on the test split (NaN if none) */
  gboolean stopped_early;
  gboolean interrupted;   /* stop_after reached */
  double   seconds;       /* wall time of this invocation */
  int      n_components;  /* PCA components used (--components, or chosen by --explained) */
  double   explained;     /* the fraction of the landmarks' variance they explain */
} WkpTrainResult;

/* Trains on @data, writing the best model to @model_path (atomically) and a
 * checkpoint to @checkpoint_path (NULL: @model_path + ".ckpt") after every
 * epoch; @log_csv (may be NULL) gets one row per epoch. With @resume the
 * checkpoint must exist and match the config; training continues exactly.
 * @progress reports steps within the epoch; @epoch_cb each finished epoch. */
gboolean wkp_train_run (const WkpTrainData *data, const WkpTrainParams *params, const char *model_path,
                        const char *checkpoint_path, const char *log_csv, gboolean resume,
                        WkpProgressFunc progress, WkpTrainEpochFunc epoch_cb, gpointer user_data,
                        GCancellable *cancellable, WkpTrainResult *result, GError **error);

/* ---- parity with PyTorch ---------------------------------------------------- */

/* Runs @n_steps optimiser steps exactly as wkp_train_run does (same data
 * preparation, initialisation, batches, loss, clipping, AdamW and schedule)
 * and writes into the existing folder @dir what tools/torch_parity.py needs
 * to repeat them in PyTorch: config.json, init_<tensor>.npy (PyTorch names),
 * x.npy [N, L, B, in], z.npy [N, L, B, K], mask.npy [N, L, B], loss_w.npy [K],
 * lr.npy [N], loss.npy [N] (float64, the C losses) and final_<tensor>.npy.
 * @seconds (may be NULL) receives the wall time of the training steps alone
 * (batch construction excluded, as the Python side gets them ready-made). */
gboolean wkp_train_parity_dump (const WkpTrainData *data, const WkpTrainParams *params, int n_steps,
                                const char *dir, double *seconds, GError **error);

/* ---- pieces used by the trainer, the benchmark and the tests -------------- */

/* Standardises features (per clip if @per_clip, then by @mean/@std) into
 * @out [n, dim]. */
void   wkp_train_normalize_features (const float *features, gint64 n, int dim, gboolean per_clip,
                                     const float *mean, const float *std, float *out);
/* Input row of step @s: frames s-context..s+context of @norm [n, dim]
 * (clamped to the clip), concatenated into @row [dim*(2*context+1)]. */
void   wkp_train_stack_row          (const float *norm, gint64 n, int dim, int context, gint64 s, float *row);

G_END_DECLS
