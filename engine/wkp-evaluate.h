/* wkp-evaluate.h: evaluation of models and baselines on a prepared dataset.
 *
 * The same code feeds `wav2kp evaluate` and the studio. Every entry (a model
 * file, a folder of landmark tracks, or a baseline) is compared with the
 * reference landmarks of each clip of a split (wkp-metrics.h), per clip and
 * pooled over the split.
 *
 * Entries:
 *   model      a .wkpm file: landmarks predicted from the clip's audio
 *              (wkp_model_predict_audio at the clip's video rate). A model
 *              whose feature config differs from the dataset's is reported
 *              (entry->problem), not evaluated.
 *   tracks     a folder with one landmark track per clip, named by the clip
 *              id (ID.npy / ID.csv) or by the clip video's file stem; or one
 *              track file when the split has a single clip. Any format
 *              wkp_landmark_track_load reads; pixels or canonical frame.
 *   mean face  baseline: the dataset's mean normalised face of the train
 *              split, constant over time (its aperture correlation is
 *              undefined: constant).
 *   energy     baseline: the aperture predicted by a least-squares line
 *              from the per-frame audio energy in dB
 *              (wkp_metrics_energy_envelope) fitted on the train split's
 *              frames; aperture metrics only.
 *   oracles    (optional) bounds, not models: they read the reference.
 *              "motion": each clip's reference motion around the dataset's
 *              mean face (reference - its clip mean + mean face): what a
 *              perfect identity-removed model would predict, so its pooled
 *              aperture r is the ceiling of such models on the split.
 *              "level": each clip's mean reference face, constant: what
 *              knowing only each speaker's mouth level is worth.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wkp-dataset.h"
#include "wkp-metrics.h"

G_BEGIN_DECLS

typedef enum {
  WKP_EVAL_MODEL,
  WKP_EVAL_TRACKS,
  WKP_EVAL_MEAN_FACE,
  WKP_EVAL_ENERGY,
  WKP_EVAL_ORACLE_MOTION,
  WKP_EVAL_ORACLE_LEVEL,
} WkpEvalKind;

/* "model", "tracks", "mean-face", "energy", "oracle-motion", "oracle-level" */
const char *wkp_eval_kind_to_string (WkpEvalKind kind);
gboolean    wkp_eval_kind_is_oracle (WkpEvalKind kind);

typedef struct {
  char        *label;      /* short unique name for tables and legends */
  char        *path;       /* model file / track folder; NULL for baselines */
  WkpEvalKind  kind;
  char        *problem;    /* one line when the entry was not evaluated (e.g. incompatible) */
  char       **missing;    /* tracks: the clips (names) the folder has no track for, scored without them;
                            * NULL when none */
  char        *note;       /* a sentence for the user about this entry (a single track whose sidecar names
                            * another video), or NULL */
  char       **trained_on; /* models: the evaluated speakers it was trained on (its numbers on them are
                            * not held-out); NULL when none, or when the model does not record them */
  char       **validated_on; /* models: the evaluated speakers that chose its best epoch (early stopping on
                              * them: its numbers there are optimistic); NULL when none or not recorded */
  WkpMetrics   pooled;
  WkpMetrics  *clips;      /* [n_clips] */
  double     **aperture;   /* [n_clips][clip frames] predicted aperture (NaN = missing), NULL if not evaluated */
  double       seconds;    /* wall time spent on this entry (prediction + metrics) */
  /* Uncertainty over clips (NaN when off, undefined or fewer than 2 clips):
   * 95% percentile intervals of the pooled mouth LMD and aperture r over
   * bootstrap resamples of the split's clips, and for models and tracks the
   * fraction of those resamples (the same ones for every entry: paired) in
   * which this entry beats the energy baseline's r / the mean face's mouth LMD. */
  double       lmd_mouth_ci[2];
  double       aperture_r_ci[2];
  double       r_above_energy;
  double       lmd_below_mean_face;
} WkpEvalEntry;

/* Two models (or track folders) against each other over the same bootstrap
 * resamples of the clips: differences "b minus a" of the pooled aperture r and
 * mouth LMD, their 95% percentile intervals, and the fraction of resamples in
 * which b is better (higher r / lower LMD); NaN where undefined. */
typedef struct {
  int    a, b;             /* entry indices, a < b */
  double r_diff, r_diff_ci[2], b_r_higher;
  double lmd_diff, lmd_diff_ci[2], b_lmd_lower;
} WkpEvalComparison;

typedef struct {
  char        *dataset;    /* dataset folder */
  WkpSplit     split;      /* WKP_SPLIT_NONE = all */
  char       **speakers;   /* NULL: every speaker of the split; else only these */
  int          max_lag;
  int          n_clips;
  int         *clip_index; /* dataset indices */
  char       **clip_name;
  char       **clip_speaker;
  WkpRational *clip_fps;
  gint64      *clip_frames;
  double     **ref_aperture; /* [n_clips][clip frames], NaN = reference missing */
  int          n_entries;
  WkpEvalEntry *entries;   /* models / tracks in the order given, then baselines, then oracles */
  double       energy_slope;     /* aperture = slope * dB + intercept (NaN if not fitted) */
  double       energy_intercept;
  gint64       energy_fit_frames;
  int          energy_fit_excluded_clips; /* train clips left out: those of the evaluated speakers */
  int          n_bootstrap; /* resamples behind the intervals (0: none) */
  int          n_comparisons;
  WkpEvalComparison *comparisons; /* every pair of evaluated models/tracks (with resamples) */
  double       seconds;    /* wall time of the whole evaluation */
} WkpEvaluation;

typedef struct {
  int      max_lag;        /* best-lag search range (WKP_METRICS_MAX_LAG) */
  gboolean baselines;      /* add the mean-face and energy baselines (TRUE) */
  gboolean oracles;        /* add the motion and level oracles (FALSE) */
  int      n_threads;      /* for model inference (1) */
  int      bootstrap;      /* resamples of the clips for intervals (1000); 0: none */
  guint32  seed;           /* of the resampling (1): results are reproducible */
  const char * const *speakers; /* NULL-terminated; only these speakers' clips of the split are
                                 * evaluated, and the energy baseline is fitted on the train
                                 * split without them (speaker cross-validation with `train
                                 * --val-speakers`). NULL: all. Each must have a clip there. */
} WkpEvalParams;

void wkp_eval_params_init_default (WkpEvalParams *params);

/* Evaluates @paths (model files or track folders/files; may be empty) and the
 * baselines on the OK clips of @split. Unreadable inputs fail the whole run
 * before any heavy work (the error names the file). A model runs on its own
 * features computed from each clip's audio (as `predict` runs it); one that
 * reads another audio sample rate than the dataset's 16 kHz is recorded in
 * entry->problem. */
WkpEvaluation *wkp_evaluate (const WkpDataset *ds, WkpSplit split,
                             const char * const *paths, int n_paths,
                             const WkpEvalParams *params,
                             WkpProgressFunc progress, gpointer progress_data,
                             GCancellable *cancellable, GError **error);
void           wkp_evaluation_free (WkpEvaluation *ev);

/* Everything as JSON (NaN -> null): the split, clips, and per entry the
 * pooled and per-clip metrics. */
JsonNode *wkp_evaluation_to_json (const WkpEvaluation *ev);
/* CSV, one row per entry and clip plus one pooled row per entry (clip "ALL");
 * numbers locale-independent, empty cells for undefined values. */
GBytes   *wkp_evaluation_to_csv  (const WkpEvaluation *ev);
/* Metrics as JSON (NaN -> null). */
JsonNode *wkp_metrics_to_json    (const WkpMetrics *m);

/* Writes DIR/summary.{svg,png} and DIR/clip-NNN-NAME.{svg,png} (aperture
 * over time, reference vs every entry) for each clip. DIR must exist or be
 * creatable. The per-clip plots are listed in DIR/.wav2kp-plots; those the
 * previous run listed there and this run did not write are removed, their
 * count in *N_REMOVED (nullable); other files stay. */
gboolean  wkp_evaluation_plot    (const WkpEvaluation *ev, const char *dir, int *n_removed, GError **error);

/* A model's opinion of a clip's timing: the lag in [-max_lag, max_lag] at
 * which its predicted inner-lip aperture correlates best with the reference
 * one (Pearson of ref[t] with pred[t + lag], over the frames where both
 * exist; > 0: the sound lags the picture, as a clip's offset_frames), and the
 * correlations at lag 0, at that lag and at the clip's estimated offset. An
 * energy envelope can peak at a wrong lag with some confidence; a model that
 * hears phones is a second opinion (`wav2kp check --model`, the studio's
 * Dataset window). */
typedef struct {
  gboolean known;     /* FALSE: no correlation defined at any lag */
  int      lag;
  double   r0, r_lag, r_offset;   /* NaN where undefined */
} WkpTimingOpinion;

/* @offset: the energy estimate's lag on the clip as its arrays are (its
 * offset_frames minus offset_applied: a clip --fix-offset moved is judged by
 * its residual). Ties go to the smaller |lag|. */
void     wkp_timing_opinion  (const double *ref_aperture, const double *pred_aperture, gint64 n_frames, int max_lag,
                              int offset, WkpTimingOpinion *out);
/* The range to search on @ds: prepare's ±10 frames, or the largest offset it
 * estimated (at most 31). */
int      wkp_timing_max_lag  (const WkpDataset *ds);
/* TRUE when the clip's offset is flagged and the model disputes it: its lag
 * is 3 or more frames away (a model's own best lag wanders by 1-2 frames
 * between clips) and fits at least 0.1 better in r than the offset's lag. */
gboolean wkp_timing_disputes (const WkpDatasetClip *clip, const WkpTimingOpinion *opinion);
/* The same rule for an estimate @offset (on the sound as the prediction read
 * it) that is offered as a move, whether or not a dataset flagged it. */
gboolean wkp_timing_disputes_lag (const WkpTimingOpinion *opinion, int offset);
/* TRUE when the clip's offset is flagged and the model's lag is within a
 * frame of it. */
gboolean wkp_timing_agrees   (const WkpDatasetClip *clip, const WkpTimingOpinion *opinion);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpEvaluation, wkp_evaluation_free)

G_END_DECLS
