/* wkp-dataset-window.h: the clips of a prepared dataset (`wav2kp prepare`),
 * for checking its alignment by eye. One row per clip with its speaker,
 * split, face rate and the A/V offset that `prepare` estimated, flagged clips
 * marked; activating a row opens the clip in the studio with the dataset's
 * own landmarks (nothing is extracted again) and its paired audio. The
 * manifest is read on a worker thread. */
#pragma once

#include <gtk/gtk.h>

#include "wkp-dataset.h"
#include "wkp-evaluate.h"

G_BEGIN_DECLS

#define WKP_TYPE_DATASET_WINDOW (wkp_dataset_window_get_type ())
G_DECLARE_FINAL_TYPE (WkpDatasetWindow, wkp_dataset_window, WKP, DATASET_WINDOW, GtkWindow)

/* Emits "open-clip" (video, audio or NULL, landmarks, fps as "NUM/DEN",
 * speaker, the frames to move its sound earlier: those the dataset moved it,
 * or with "Open clips with their estimated offset corrected" the offset
 * prepare estimated) when a clip is activated. */
WkpDatasetWindow *wkp_dataset_window_new         (GtkWindow *parent, const char *path);
/* The "Open clips with their estimated offset corrected" check box. */
void              wkp_dataset_window_set_open_corrected (WkpDatasetWindow *self, gboolean corrected);

/* TRUE when @path is a prepared dataset: a folder holding dataset.json, or
 * that file itself. */
gboolean          wkp_dataset_window_is_dataset  (const char *path);

/* Scores every ready clip with @model (and @compare, may be NULL) on a worker
 * thread, as `wav2kp evaluate` does, one evaluation per split: each row gets
 * its aperture r (and the compared model's, with the difference), the status
 * line the pooled r per split, and the clips can be ordered by them. The
 * window's button emits "score-requested" (no arguments), for the main window
 * to call this with the models in use. FALSE when it cannot start (no model,
 * the dataset not read yet, or scoring already). */
gboolean          wkp_dataset_window_score       (WkpDatasetWindow *self, const char *model, const char *compare);
gboolean          wkp_dataset_window_is_scoring  (WkpDatasetWindow *self);
/* A row's score line: "aperture r 0.41, motion 0.45× · compared 0.52 (+0.11)";
 * NaN is undefined. */
char             *wkp_dataset_window_score_text  (double r, double motion, double r_compared, gboolean seen,
                                                  const char *timing, gboolean compared_seen, gboolean has_compared);
/* @timing (nullable) follows the model's numbers: from the model's opinion
 * of the clip's timing (wkp_timing_opinion, as `check --model`), " · fits
 * best with the sound 2 frames late (r 0.61)" (or early) when its best lag is
 * 2 frames or more, or when the clip's flagged offset is disputed (" · the
 * model disputes the estimated offset +8") or agreed with (" · the model
 * agrees with the estimated offset +4"); "" otherwise. */
char             *wkp_dataset_window_timing_text (const WkpTimingOpinion *opinion, gboolean disputes, gboolean agrees,
                                                  int offset);

/* For tests. */
gboolean          wkp_dataset_window_is_loading  (WkpDatasetWindow *self);
/* Rows shown (all clips, or the flagged and failed ones with the filter on). */
int               wkp_dataset_window_n_rows      (WkpDatasetWindow *self);
void              wkp_dataset_window_set_flagged_only (WkpDatasetWindow *self, gboolean flagged_only);
/* Activates the row at @index among those shown. */
void              wkp_dataset_window_activate_row (WkpDatasetWindow *self, int index);
/* The dataset index of the clip shown at row @index, or -1. */
int               wkp_dataset_window_row_clip    (WkpDatasetWindow *self, int index);
/* Its score line, or NULL before scoring. */
const char       *wkp_dataset_window_row_score   (WkpDatasetWindow *self, int index);
/* 0 dataset order, 1 lowest r first, 2 largest gain of the compared model first. */
void              wkp_dataset_window_set_order   (WkpDatasetWindow *self, int order);
int               wkp_dataset_window_n_orders    (WkpDatasetWindow *self);
/* As a click on "Score Clips with the Models" (or on "Cancel Scoring"). */
void              wkp_dataset_window_click_score (WkpDatasetWindow *self);
/* The status line under the list (what was read, or why nothing was). */
const char       *wkp_dataset_window_get_note    (WkpDatasetWindow *self);

/* A clip's audio/video offset line: "offset +3 frames (confidence 0.82)",
 * "no offset (…)", "offset unsure (…)", or an estimate that was not flagged
 * with the reason (one frame; or it beats lag 0 by too little). */
char             *wkp_dataset_window_offset_text (const WkpDatasetClip *c);

G_END_DECLS
