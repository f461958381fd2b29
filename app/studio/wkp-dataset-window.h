/* wkp-dataset-window.h: the clips of a prepared dataset (`wav2kp prepare`),
 * for checking its alignment by eye. One row per clip with its speaker,
 * split, face rate and the A/V offset that `prepare` estimated, flagged clips
 * marked; activating a row opens the clip in the studio with the dataset's
 * own landmarks (nothing is extracted again) and its paired audio. The
 * manifest is read on a worker thread. */
#pragma once

#include <gtk/gtk.h>

#include "wkp-dataset.h"

G_BEGIN_DECLS

#define WKP_TYPE_DATASET_WINDOW (wkp_dataset_window_get_type ())
G_DECLARE_FINAL_TYPE (WkpDatasetWindow, wkp_dataset_window, WKP, DATASET_WINDOW, GtkWindow)

/* Emits "open-clip" (video, audio or NULL, landmarks, fps as "NUM/DEN", speaker) when
 * a clip is activated. */
WkpDatasetWindow *wkp_dataset_window_new         (GtkWindow *parent, const char *path);

/* TRUE when @path is a prepared dataset: a folder holding dataset.json, or
 * that file itself. */
gboolean          wkp_dataset_window_is_dataset  (const char *path);

/* For tests. */
gboolean          wkp_dataset_window_is_loading  (WkpDatasetWindow *self);
/* Rows shown (all clips, or the flagged and failed ones with the filter on). */
int               wkp_dataset_window_n_rows      (WkpDatasetWindow *self);
void              wkp_dataset_window_set_flagged_only (WkpDatasetWindow *self, gboolean flagged_only);
/* Activates the row at @index among those shown. */
void              wkp_dataset_window_activate_row (WkpDatasetWindow *self, int index);
/* The status line under the list (what was read, or why nothing was). */
const char       *wkp_dataset_window_get_note    (WkpDatasetWindow *self);

/* A clip's audio/video offset line: "offset +3 frames (confidence 0.82)",
 * "no offset (…)", "offset unsure (…)", or an estimate that was not flagged
 * with the reason (one frame; or it beats lag 0 by too little). */
char             *wkp_dataset_window_offset_text (const WkpDatasetClip *c);

G_END_DECLS
