/* wkp-studio-window.h: the studio's main window: four views on one session. */
#pragma once

#include <gtk/gtk.h>

#include "wkp-player.h"
#include "wkp-session.h"
#include "wkp-dataset-window.h"
#include "wkp-training-window.h"

G_BEGIN_DECLS

#define WKP_TYPE_STUDIO_WINDOW (wkp_studio_window_get_type ())
G_DECLARE_FINAL_TYPE (WkpStudioWindow, wkp_studio_window, WKP, STUDIO_WINDOW, GtkApplicationWindow)

typedef struct {
  const char *video;       /* video file or image pattern; NULL for audio-only */
  const char *audio;       /* separate audio (or the audio-only file) */
  const char *landmarks;   /* landmark file instead of extraction */
  const char *model;       /* model file; NULL: the default model if installed */
  const char *compare_model; /* a second model to compare with, or NULL */
  WkpRational fps;         /* image sequences ({0,0}: 25) and audio alone ({0,0}: the model's) */
  const char *speaker;     /* the clip's speaker when known (a dataset's), or NULL */
  int         audio_late;  /* the sound comes this many frames late: moved earlier (a video's only) */
} WkpOpenRequest;

/* "Sound late by" moves a sound at most this many frames either way (4 s at
 * 25 fps; `wav2kp check` searches ±10). */
#define WKP_STUDIO_MAX_LATE 100

/* @silent: audio goes to a clock-synchronised fakesink (tests, benchmarks). */
WkpStudioWindow *wkp_studio_window_new      (GtkApplication *app, gboolean silent);
void             wkp_studio_window_open     (WkpStudioWindow *self, const WkpOpenRequest *request);
/* Opens one file (or a video + audio pair) deciding by content type. */
void             wkp_studio_window_open_files (WkpStudioWindow *self, GFile **files, int n_files);
/* One numbered frame of an image sequence (by name or, without an extension,
 * by content) -> the pattern of its whole sequence; NULL for anything else.
 * The Open dialog, drag and drop and the command line all open a sequence
 * this way. */
char            *wkp_studio_sequence_for_frame (const char *path);
/* A user seek: moves the session and the player to the frame containing @us. */
void             wkp_studio_window_seek     (WkpStudioWindow *self, gint64 us);
void             wkp_studio_window_seek_frame (WkpStudioWindow *self, gint64 frame);
/* The same for a key or a jump (Left/Right, Home/End, --position): zoomed in,
 * the views page when the frame's start is out of view. */
void             wkp_studio_window_go_to_frame (WkpStudioWindow *self, gint64 frame);
/* Seeks now, or as soon as the open clip's duration is known. */
void             wkp_studio_window_seek_when_ready (WkpStudioWindow *self, gint64 us);
void             wkp_studio_window_set_playing (WkpStudioWindow *self, gboolean playing);
/* Renders the open clip (once its analysis has finished) as a presentation
 * MP4 on a worker thread, as `wav2kp render` does; the status line says when
 * it is done or why it failed. "win.export" asks for the file name first. */
void             wkp_studio_window_export   (WkpStudioWindow *self, const char *output);
/* The same for the selection only (its frames and their sound); the whole
 * clip when nothing is selected. The Export dialog offers it when there is
 * a selection. */
void             wkp_studio_window_export_selection (WkpStudioWindow *self, const char *output);
/* Predicts the open clip with a second model (worker thread) and shows it
 * beside the first ("Compared", purple) with its agreement numbers.
 * "win.compare" asks for the model file first. */
void             wkp_studio_window_compare  (WkpStudioWindow *self, const char *model);
/* Opens the Training Curves window ("win.training-curves") on @model and
 * @compare; NULL: the open clip's model (or the default one) and its
 * compared model. */
/* The clips of a prepared dataset (its folder or dataset.json) in a window
 * of their own; a clip activated there opens here with the dataset's
 * landmarks and the models in use. */
WkpDatasetWindow *wkp_studio_window_open_dataset (WkpStudioWindow *self, const char *path);
/* The model and compared model (either may be NULL: the default model, none)
 * that a clip opened from the Dataset window uses while no clip is open. */
void             wkp_studio_window_set_models (WkpStudioWindow *self, const char *model, const char *compare);
WkpTrainingWindow *wkp_studio_window_show_training (WkpStudioWindow *self, const char *model,
                                                    const char *compare);

/* For tests and benchmarks. */
WkpSession      *wkp_studio_window_get_session (WkpStudioWindow *self);
WkpPlayer       *wkp_studio_window_get_player  (WkpStudioWindow *self);
/* "frame", "mouth", "spectrogram", "aperture", "timeline", "overview", "status" (the status
 * label), "time" (the position inscription), "spectrogram-title" (the
 * features panel's title), "aperture-title", "late" (the "Sound late by"
 * spin button) or "estimate" (the button beside it). */
GtkWidget       *wkp_studio_window_get_view    (WkpStudioWindow *self, const char *name);
/* TRUE while open jobs run. */
gboolean         wkp_studio_window_is_busy     (WkpStudioWindow *self);

/* The default model: $WKP_MODEL, the installed default.wkpm, or the one in
 * the source tree's data/ folder (uninstalled runs); NULL if none exists. */
char            *wkp_studio_default_model      (void);
/* The Open Recent menu's label for @uri: "name (folder)", underscores doubled
 * so that the menu shows them instead of taking them for mnemonics. */
char            *wkp_studio_recent_label       (const char *uri);

/* The video panel's share of the top row's width (0..1). */
double           wkp_studio_window_get_video_share (WkpStudioWindow *self);

/* Cancels the window's running analysis, export or comparison (Quit and
 * closing the window do). */
void             wkp_studio_window_cancel_tasks (WkpStudioWindow *self);

G_END_DECLS
