#include "wkp-studio-window.h"
#include "wkp-studio-ui.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "wkp-config.h"
#include "wkp-evaluate.h"
#include "wkp-face.h"
#include "wkp-io.h"
#include "wkp-media.h"
#include "wkp-metrics.h"
#include "wkp-open-job.h"
#include "wkp-studio-export.h"
#include "wkp-studio-resources.h"
#include "wkp-widgets.h"

struct _WkpStudioWindow
{
  GtkApplicationWindow parent_instance;
  GtkWindow          *training_window;   /* weak: the Training Curves window, or NULL */
  GtkWindow          *dataset_window;    /* weak: the Dataset window, or NULL */
  GtkWindow          *export_dialog;     /* weak: the Export Clip file dialog, or NULL */
  double              top_share;         /* the video's share of the top paned's width */
  int                 top_max;           /* its max-position when last seen */
  gboolean            top_dragged;       /* the user moved the handle: their share is kept */

  /* template children */
  GtkPaned           *top_paned;      /* video | mouth */
  WkpFrameView       *frame_view;
  WkpMouthView       *mouth_view;
  WkpSpectrogramView *spectrogram_view;
  WkpAperturePlot    *aperture_plot;
  WkpTimelineBar     *timeline_bar;
  WkpOverviewBar     *overview_bar;
  GtkLabel           *frame_label;
  GtkLabel           *spectrogram_label;
  GtkLabel           *aperture_label;
  GtkInscription     *time_label;
  GtkLabel           *status_label;
  GtkProgressBar     *progress_bar;
  GtkButton          *cancel_button;
  GtkButton          *play_button;
  GtkDropDown        *rate_dropdown;
  GtkSpinButton      *late_spin;      /* "Sound late by … frames" */
  GtkButton          *estimate_button; /* … set to the clip's offset estimate */
  WkpStudioClip      *estimating;     /* the clip whose estimate is being computed (ref), or NULL */
  guint               late_timeout;   /* a change waiting to settle */
  gboolean            sound_job;      /* self->job recomputes after a move of the sound */
  gboolean            late_touched;   /* the spin was changed since the clip was opened */
  GMenu              *recent_section;

  WkpSession         *session;
  WkpPlayer          *player;
  WkpOpenJob         *job;
  GSettings          *settings;
  guint               tick_id;
  gboolean            silent;
  gboolean            unplayable;     /* the open clip cannot be played */
  gboolean            unreadable;     /* ... nor read by FFmpeg: nothing to export */
  char               *playback_error; /* why, shown again when the analyses are done */
  gint64              pending_seek;   /* -1: none */
  GCancellable       *task_cancellable;   /* while an export or a comparison runs */
  gint                export_permille;     /* atomic, written by the export thread */
  guint               export_tick;         /* progress bar refresh while exporting */
  char               *export_output;
  char               *models_before_clip[2];   /* --model/--compare given with a dataset: used
                                                * by its first clip (later ones keep the open clip's) */
};

G_DEFINE_FINAL_TYPE (WkpStudioWindow, wkp_studio_window, GTK_TYPE_APPLICATION_WINDOW)

static const double rates[] = { 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0 };

/* "Sound late by" is applied this long after the last click. */
#define WKP_STUDIO_LATE_SETTLE_MS 300

static void on_late_changed (GtkSpinButton *spin, WkpStudioWindow *self);
static void update_late_spin (WkpStudioWindow *self, gboolean show_clip);
static void apply_audio_late (WkpStudioWindow *self);
static void on_job_progress (WkpOpenJob *job, WkpStudioWindow *self);
static void on_job_failed (WkpOpenJob *job, guint part, const char *message, WkpStudioWindow *self);
static void on_job_finished (WkpOpenJob *job, gboolean cancelled, WkpStudioWindow *self);
static void update_spectrogram_label (WkpStudioWindow *self);
static void on_estimate_clicked (GtkButton *button, WkpStudioWindow *self);
static void update_estimate_button (WkpStudioWindow *self);
static void set_top_share_for_clip (WkpStudioWindow *self, gboolean has_video);

/* --- views follow the session ---------------------------------------------- */

static void
update_time_label (WkpStudioWindow *self)
{
  g_autofree char *pos = wkp_format_time (wkp_session_get_position (self->session));
  g_autofree char *dur = wkp_format_time (wkp_session_get_duration (self->session));
  g_autofree char *text = NULL;
  gint64 n = wkp_session_n_frames (self->session);
  /* TRANSLATORS: position / duration, then the frame index out of the frame count */
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  gint64 frame = wkp_session_get_frame (self->session);
  text = g_strdup_printf (_("%s / %s · frame %lld of %lld"),
                          pos, dur, (long long) (n > 0 ? frame + 1 : 0), (long long) n);
  /* a gap in the landmarks is said, not just left blank */
  if (clip != NULL && clip->track != NULL && n > 0 && wkp_studio_clip_pixels_at (clip, frame) == NULL)
    {
      char *with = g_strdup_printf (_("%s · no face"), text);
      g_free (text);
      text = with;
    }
  gtk_inscription_set_text (self->time_label, text);
}

/* overlays follow the displayed frame */
static void
update_overlays (WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  gint64 frame = wkp_session_get_frame (self->session);

  if (clip == NULL)
    {
      wkp_frame_view_set_landmarks (self->frame_view, NULL);
      wkp_mouth_view_set_extracted (self->mouth_view, NULL);
      wkp_mouth_view_set_predicted (self->mouth_view, NULL);
      wkp_mouth_view_set_compared (self->mouth_view, NULL);
      return;
    }
  wkp_frame_view_set_landmarks (self->frame_view, wkp_studio_clip_pixels_at (clip, frame));
  wkp_mouth_view_set_extracted (self->mouth_view, wkp_studio_clip_extracted_at (clip, frame));
  wkp_mouth_view_set_predicted (self->mouth_view, wkp_studio_clip_predicted_at (clip, frame));
  wkp_mouth_view_set_compared (self->mouth_view, wkp_studio_clip_compared_at (clip, frame));
}

/* The panel names what it shows, and says so when the model reads the other
 * kind of features (the view is a preference, the model's input is not). */
static void
update_spectrogram_label (WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  const char *kind0 = clip != NULL && clip->logmel ? _("Log-mel spectrogram") : _("MFCC");
  /* the rows have no axis: the title says what they are and which way up */
  g_autofree char *kind = clip != NULL && (clip->parts & WKP_CLIP_PART_FEATURES) && clip->n_coeffs > 0
                            ? g_strdup_printf (clip->logmel
                                               /* TRANSLATORS: the spectrogram's title, its mel band count */
                                               ? _("%s (%d mel bands, low at the bottom; each band's colours "
                                                   "span its mean ± 2.5 SD over the clip)")
                                               /* TRANSLATORS: the MFCC panel's title, its coefficient count */
                                               : _("%s (%d coefficients, c0 at the bottom; each one's colours "
                                                   "span its mean ± 2.5 SD over the clip)"),
                                               kind0, clip->n_coeffs)
                            : g_strdup (kind0);
  g_autofree char *base = clip != NULL && clip->video != NULL && clip->audio != NULL
                            ? g_filename_display_basename (clip->audio) : NULL;
  /* TRANSLATORS: the features shown, and the separate audio file they come from */
  g_autofree char *of = base != NULL ? g_strdup_printf (_("%s of %s"), kind, base) : g_strdup (kind);
  int late = clip != NULL ? clip->audio_late : 0;
  g_autofree char *shown = late == 0 ? g_strdup (of)
                           : g_strdup_printf (late > 0
                                              /* TRANSLATORS: the features, read from the sound moved N frames earlier */
                                              ? ngettext ("%s · the sound moved %d frame earlier",
                                                          "%s · the sound moved %d frames earlier", late)
                                              : ngettext ("%s · the sound moved %d frame later",
                                                          "%s · the sound moved %d frames later", -late),
                                              of, ABS (late));
  /* a video without audio: say so over the empty panel, not "MFCC" */
  if (clip != NULL && (clip->parts & WKP_CLIP_PART_MEDIA) && clip->samples == NULL)
    gtk_label_set_text (self->spectrogram_label, _("Audio features: none (the clip has no audio)"));
  else if (clip != NULL && self->unreadable)   /* (it said "MFCC" over nothing; QA pass) */
    gtk_label_set_text (self->spectrogram_label, _("Audio features: none (the clip could not be read)"));
  else if (clip != NULL && (clip->parts & WKP_CLIP_PART_FEATURES) && (clip->parts & WKP_CLIP_PART_PREDICTION)
      && clip->model_logmel != clip->logmel)
    {
      /* the mismatch first: a long title is cut at its end (it lost "MFCC
       * in the menu" to an ellipsis) */
      g_autofree char *text = g_strdup_printf (clip->model_logmel
                                               ? _("The model reads log-mel (Log-mel in the menu); shown: %s")
                                               : _("The model reads MFCC (MFCC in the menu); shown: %s"), shown);
      gtk_label_set_text (self->spectrogram_label, text);
    }
  else
    gtk_label_set_text (self->spectrogram_label, shown);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->spectrogram_label), gtk_label_get_text (self->spectrogram_label));
}

/* A tooltip as a label that wraps at 80 characters: GTK's own kept the
 * metric definitions on one line that ran off a 1600-pixel screen. The text
 * stays the widget's tooltip text (for accessibility and the tests). */
static gboolean
on_query_wrapped_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, gpointer data)
{
  const char *text = gtk_widget_get_tooltip_text (widget);
  GtkWidget *label;
  (void) x, (void) y, (void) keyboard, (void) data;
  if (text == NULL)
    return FALSE;
  label = gtk_label_new (text);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 80);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_tooltip_set_custom (tooltip, label);
  return TRUE;
}

static void
update_aperture_label (WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  g_autofree char *pred = clip != NULL ? wkp_studio_clip_agreement (clip, clip->predicted_canon) : g_strdup ("");
  g_autofree char *comp = clip != NULL ? wkp_studio_clip_agreement (clip, clip->compared_canon) : g_strdup ("");
  /* a model trained on this clip's speaker is not scored on a new voice: said,
   * as evaluate's "Not held out" and its plots' legends say it */
  if (*pred != '\0' && wkp_studio_clip_speaker_seen (clip, clip->model_trained_on))
    {
      char *with = g_strdup_printf (_("%s, trained on this speaker"), pred);
      g_free (pred);
      pred = with;
    }
  if (*comp != '\0' && wkp_studio_clip_speaker_seen (clip, clip->compared_trained_on))
    {
      char *with = g_strdup_printf (_("%s, trained on this speaker"), comp);
      g_free (comp);
      comp = with;
    }
  g_autofree char *text = NULL;
  const char *title = _("Inner-lip aperture (÷ inter-ocular distance)");

  if (*pred != '\0' && *comp != '\0')
    /* TRANSLATORS: the panel title, then the agreement of each model with the extracted mouth */
    text = g_strdup_printf (_("%s — predicted %s · compared %s"), title, pred, comp);
  else if (*pred != '\0' || *comp != '\0')
    text = g_strdup_printf (_("%s — %s %s"), title, *pred != '\0' ? _("predicted") : _("compared"),
                            *pred != '\0' ? pred : comp);
  else
    text = g_strdup (title);
  gtk_label_set_text (self->aperture_label, text);
  if (*pred != '\0' || *comp != '\0')
    {
      /* the models by name: the title has no room for them */
      const char *pn = clip->model_name != NULL ? clip->model_name : "?";
      const char *cn = clip->compared_name != NULL ? clip->compared_name : "?";
      g_autofree char *who = *pred != '\0' && *comp != '\0'
                               ? g_strdup_printf (_("Predicted: %s\nCompared: %s"), pn, cn)
                               : *pred != '\0' ? g_strdup_printf (_("Predicted: %s"), pn)
                                               : g_strdup_printf (_("Compared: %s"), cn);
      g_autofree char *tip = g_strdup_printf ("%s\n\n%s\n\n%s", text, who,
                                              _("r: Pearson correlation of the predicted with the extracted inner-lip "
                                                "aperture over the clip at lag 0, then at the best lag within ±3 "
                                                "frames (positive: the prediction is late against the extracted "
                                                "mouth; ≥+3 or ≤−3: at the edge of that range, the offset may be "
                                                "larger: see the Dataset window's estimate); LMD: mean mouth "
                                                "landmark distance in inter-ocular units; motion: the predicted "
                                                "aperture's standard deviation over the extracted one's (1×: as "
                                                "much opening and closing, 0×: a still mouth). The same numbers "
                                                "as wav2kp evaluate."));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->aperture_label), tip);
    }
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->aperture_label), NULL);
}

static void
on_frame_changed (WkpSession *session, GParamSpec *pspec, WkpStudioWindow *self)
{
  update_overlays (self);
  update_time_label (self);
}

static void
on_position_changed (WkpSession *session, GParamSpec *pspec, WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (session);
  /* without pictures the frame follows the position directly; played to its
   * end, the position is the clip's end, which starts no frame (it showed
   * "frame 502 of 501" and a blank mouth: studio QA) */
  if (clip != NULL && !clip->has_video)
    {
      gint64 n = wkp_session_n_frames (session);
      gint64 f = wkp_session_frame_at (session, wkp_session_get_position (session));
      wkp_session_set_frame (session, n > 0 ? CLAMP (f, 0, n - 1) : f);
    }
  update_time_label (self);
}

static void
on_playing_changed (WkpSession *session, GParamSpec *pspec, WkpStudioWindow *self)
{
  gboolean playing = wkp_session_get_playing (session);
  gtk_button_set_icon_name (self->play_button,
                            playing ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
  wkp_player_set_playing (self->player, playing);
}

/* Play and Loop do something only with a clip that can be played: not with
 * no clip open, nor when it cannot be read; Export (FFmpeg) only with one
 * that can be read, even if GStreamer lacks a plug-in for it. */
/* Space is Play/Pause: while it is disabled (no clip, or one that cannot
 * be played), the key goes nowhere, rather than to the focused button (it
 * opened the file dialog through the Open button after a failed open; QA
 * pass). Text fields keep their spaces. */
static gboolean
on_key_capture (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
                WkpStudioWindow *self)
{
  GAction *play = g_action_map_lookup_action (G_ACTION_MAP (self), "play-pause");
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));
  if (keyval != GDK_KEY_space || (state & gtk_accelerator_get_default_mod_mask ()) != 0)
    return FALSE;
  if (focus != NULL && (GTK_IS_EDITABLE (focus) || gtk_widget_get_ancestor (focus, GTK_TYPE_EDITABLE) != NULL))
    return FALSE;
  return play != NULL && !g_action_get_enabled (play);
}

static void
update_playback_actions (WkpStudioWindow *self)
{
  gboolean can_play = wkp_session_get_clip (self->session) != NULL && !self->unplayable;
  static const char *const names[] = { "play-pause", "loop" };
  GAction *export = g_action_map_lookup_action (G_ACTION_MAP (self), "export");

  if (export != NULL)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (export),
                                 wkp_session_get_clip (self->session) != NULL && !self->unreadable);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), names[i]);
      if (action != NULL)
        g_simple_action_set_enabled (G_SIMPLE_ACTION (action), can_play);
    }
  if (!can_play)
    wkp_session_set_playing (self->session, FALSE);
}

static void
set_unplayable (WkpStudioWindow *self, gboolean unplayable)
{
  self->unplayable = unplayable;
  if (!unplayable)
    self->unreadable = FALSE;
  if (!unplayable)
    g_clear_pointer (&self->playback_error, g_free);
  update_playback_actions (self);
}

static void
set_status (WkpStudioWindow *self, const char *text)
{
  gtk_label_set_text (self->status_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), text);
}

/* A playback error arrives while the analyses still run; "Ready" at their
 * end must not hide it, or Play is greyed out without a word. */
static void
set_playback_error (WkpStudioWindow *self, const char *message)
{
  g_free (self->playback_error);
  self->playback_error = g_strdup_printf (_("Playback failed: %s"), message);
  set_status (self, self->playback_error);
  set_unplayable (self, TRUE);
}

static const char *
ready_text (WkpStudioWindow *self)
{
  return self->playback_error != NULL ? self->playback_error : _("Ready");
}

static void
set_mouth_note (WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  /* the legend names only what this clip can show */
  wkp_mouth_view_set_legend (self->mouth_view,
                             clip == NULL || (clip->parts & WKP_CLIP_PART_LANDMARKS)
                             || (clip->video != NULL && self->job != NULL),
                             clip == NULL || (clip->model_file != NULL
                                              && ((clip->parts & WKP_CLIP_PART_PREDICTION) || self->job != NULL)));
  if (clip == NULL)
    wkp_mouth_view_set_note (self->mouth_view, NULL);
  else if (clip->model_file == NULL)
    wkp_mouth_view_set_note (self->mouth_view, _("No model: predictions unavailable"));
  else if (!(clip->parts & WKP_CLIP_PART_PREDICTION) && self->job == NULL)
    wkp_mouth_view_set_note (self->mouth_view, _("No prediction (see the status line)"));
  else if (!(clip->parts & WKP_CLIP_PART_PREDICTION))
    wkp_mouth_view_set_note (self->mouth_view, _("Predicting…"));
  else if (clip->compared_name != NULL)
    {
      /* one line each: on one, two long names were cut with "…" */
      g_autofree char *note = g_strdup_printf (_("Model: %s\nCompared: %s"), clip->model_name,
                                               clip->compared_name);
      wkp_mouth_view_set_note (self->mouth_view, note);
    }
  else
    {
      g_autofree char *note = g_strdup_printf (_("Model: %s"), clip->model_name);
      wkp_mouth_view_set_note (self->mouth_view, note);
    }
  wkp_mouth_view_set_compared_legend (self->mouth_view, clip != NULL && (clip->parts & WKP_CLIP_PART_COMPARED));
}

static gint64
late_us (int frames, WkpRational fps)
{
  gint64 us = wkp_frame_to_us (ABS (frames), fps);
  return frames < 0 ? -us : us;
}

/* The spin can be used once there is a video's decoded sound to move; with
 * @show_clip it shows the open clip's move (without acting on it), else it
 * keeps what the user set while the clip was opening. */
static void
update_late_spin (WkpStudioWindow *self, gboolean show_clip)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  gboolean movable = clip != NULL && clip->has_video && clip->samples != NULL && clip->n_frames > 1;
  g_signal_handlers_block_by_func (self->late_spin, on_late_changed, self);
  if (movable)
    gtk_spin_button_set_range (self->late_spin, -(double) MIN (clip->n_frames - 1, WKP_STUDIO_MAX_LATE),
                               (double) MIN (clip->n_frames - 1, WKP_STUDIO_MAX_LATE));
  if (show_clip)
    gtk_spin_button_set_value (self->late_spin, clip != NULL ? clip->audio_late : 0);
  g_signal_handlers_unblock_by_func (self->late_spin, on_late_changed, self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->late_spin), movable);
  update_estimate_button (self);
}

/* Before the sound is moved, what was computed from it goes (and the views
 * with it), so that no view shows one alignment beside another while the
 * job computes them again, nor keeps the old ones if it fails or is
 * cancelled. */
static void
clear_sound_parts (WkpStudioWindow *self, WkpStudioClip *clip)
{
  g_clear_pointer (&clip->spectrogram, g_bytes_unref);
  clip->n_steps = 0;
  clip->n_coeffs = 0;
  g_clear_pointer (&clip->predicted_canon, g_bytes_unref);
  g_clear_pointer (&clip->predicted_aperture, g_bytes_unref);
  wkp_studio_clip_set_compared (clip, NULL, NULL, NULL, NULL);
  clip->parts &= ~(WKP_CLIP_PART_FEATURES | WKP_CLIP_PART_PREDICTION | WKP_CLIP_PART_COMPARED);
  wkp_spectrogram_view_set_data (self->spectrogram_view, NULL, 0, 0, 0, 0);
  wkp_aperture_plot_set_series (self->aperture_plot, WKP_APERTURE_PREDICTED, NULL, 0, 0, 0);
  wkp_aperture_plot_set_series (self->aperture_plot, WKP_APERTURE_COMPARED, NULL, 0, 0, 0);
  update_spectrogram_label (self);
  update_aperture_label (self);
  update_overlays (self);
}

/* Moves the open clip's sound as the spin says: the player at once, the
 * features and predictions in a job (after the running job or task, if
 * any: called again when it ends). */
static void
move_sound (WkpStudioWindow *self, gboolean again)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  int want = gtk_spin_button_get_value_as_int (self->late_spin);
  g_autofree char *kind = NULL;

  if (clip == NULL || !clip->has_video || clip->samples == NULL || (want == clip->audio_late && !again)
      || self->late_timeout != 0 || wkp_studio_window_is_busy (self))
    return;
  clip->audio_late = want;
  wkp_player_set_audio_advance (self->player, late_us (want, clip->fps));
  clear_sound_parts (self, clip);
  kind = g_settings_get_string (self->settings, "spectrogram-kind");
  self->job = wkp_open_job_new_for_sound (self->session, kind);
  self->sound_job = TRUE;
  g_signal_connect (self->job, "progress", G_CALLBACK (on_job_progress), self);
  g_signal_connect (self->job, "part-failed", G_CALLBACK (on_job_failed), self);
  g_signal_connect (self->job, "finished", G_CALLBACK (on_job_finished), self);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), TRUE);
  set_mouth_note (self);   /* "Predicting…" */
  wkp_open_job_start (self->job);
  on_job_progress (self->job, self);
}

/* Ctrl+] and Ctrl+[: Sound late by one frame more or less (while it can be
 * moved), so that an offset can be stepped through from the keyboard. */
static void
step_late (WkpStudioWindow *self, GtkSpinType direction)
{
  if (gtk_widget_get_sensitive (GTK_WIDGET (self->late_spin)))
    gtk_spin_button_spin (self->late_spin, direction, 1);
}

static void
action_sound_late_more (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  step_late (user_data, GTK_SPIN_STEP_FORWARD);
}

static void
action_sound_late_less (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  step_late (user_data, GTK_SPIN_STEP_BACKWARD);
}

static void
apply_audio_late (WkpStudioWindow *self)
{
  move_sound (self, FALSE);
}

static gboolean
late_settled (gpointer data)
{
  WkpStudioWindow *self = data;
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  self->late_timeout = 0;
  /* back at the same value after a cancelled move: computed again (only on
   * the user's word: a part that fails would otherwise be tried forever) */
  move_sound (self, clip != NULL && !(clip->parts & WKP_CLIP_PART_FEATURES) && clip->samples != NULL);
  return G_SOURCE_REMOVE;
}

/* Clicks on the spin come in bursts: the move is made when they pause. */
static void
on_late_changed (GtkSpinButton *spin, WkpStudioWindow *self)
{
  self->late_touched = TRUE;
  update_estimate_button (self);
  g_clear_handle_id (&self->late_timeout, g_source_remove);
  self->late_timeout = g_timeout_add (WKP_STUDIO_LATE_SETTLE_MS, late_settled, self);
}

/* The model's opinion of the clip's timing (wkp_timing_opinion, as `check
 * --model` and the Dataset window give it), from the prediction and the
 * extracted mouth once both are here. The prediction reads the sound moved
 * by Sound late by, so @offset (the estimate, on the file's own sound) is
 * judged by what is left of it after that move, and the search reaches it. */
static gboolean
clip_timing_opinion (const WkpStudioClip *clip, int offset, WkpTimingOpinion *out)
{
  gsize n_ref = 0, n_pred = 0;
  const float *ref, *pred;
  g_autofree double *r = NULL, *p = NULL;
  gint64 n;
  int left = offset - clip->audio_late, max_lag;
  if (clip->extracted_aperture == NULL || clip->predicted_aperture == NULL || !(clip->parts & WKP_CLIP_PART_PREDICTION))
    return FALSE;
  ref = g_bytes_get_data (clip->extracted_aperture, &n_ref);
  pred = g_bytes_get_data (clip->predicted_aperture, &n_pred);
  n = (gint64) (MIN (n_ref, n_pred) / sizeof (float));
  max_lag = MAX (10, ABS (left) + 2);
  if (n < 2 * (gint64) max_lag + 10)   /* (as the estimate's own search needs) */
    return FALSE;
  r = g_new (double, n);
  p = g_new (double, n);
  for (gint64 t = 0; t < n; t++)
    {
      r[t] = ref[t];
      p[t] = pred[t];
    }
  wkp_timing_opinion (r, p, n, max_lag, left, out);
  return out->known;
}

/* The Estimate button: the clip's offset estimate, once computed. */
static void
update_estimate_button (WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  GtkWidget *button = GTK_WIDGET (self->estimate_button);
  const WkpAvOffset *o = clip != NULL ? &clip->offset_estimate : NULL;

  if (clip == NULL || !clip->has_video || clip->samples == NULL || clip->track == NULL
      || (!clip->has_offset_estimate && clip->offset_error == NULL))
    {
      gtk_button_set_label (self->estimate_button, _("Estimate"));
      gtk_widget_set_tooltip_text (button, _("The offset estimated from the clip's sound and its mouth, as wav2kp "
                                             "check estimates it: once the sound and the landmarks are here"));
      gtk_widget_set_sensitive (button, FALSE);
    }
  else if (!clip->has_offset_estimate)
    {
      g_autofree char *tip = g_strdup_printf (_("No estimate: %s"), clip->offset_error);
      gtk_button_set_label (self->estimate_button, _("Estimate"));
      gtk_widget_set_tooltip_text (button, tip);
      gtk_widget_set_sensitive (button, FALSE);
    }
  else
    {
      /* as `check` reads it: unsure (low confidence, or the edge of the
       * search) or hardly better than no move is not offered as a move */
      WkpPrepareParams P;
      WkpTimingOpinion op;
      gboolean unsure, weak, already, disputed = FALSE, model_known;
      g_autofree char *label = NULL, *why = NULL, *tip = NULL, *model_says = NULL;
      wkp_prepare_params_init_default (&P);
      unsure = !isfinite (o->confidence) || o->confidence < P.min_offset_confidence || ABS (o->offset_frames) >= o->max_lag;
      weak = !unsure && o->offset_frames != 0 && !(isfinite (o->gain) && o->gain >= P.min_offset_gain);
      /* a move the model disputes is not offered either (RD_Radio2: +8,
       * where the model fits best at +1 and r falls from 0.44 to 0.03;
       * studio QA), by the rule of check --model for a flagged offset */
      model_known = clip_timing_opinion (clip, o->offset_frames, &op);
      if (model_known)
        {
          disputed = !unsure && !weak && wkp_timing_disputes_lag (&op, o->offset_frames - clip->audio_late);
          model_says = g_strdup_printf (
            /* TRANSLATORS: in the Estimate button's tooltip: the lag at which the model's prediction fits the
             * extracted mouth best, counted on the sound as it is now (after Sound late by) */
            _("The model's prediction fits the mouth best at a lag of %+d frames on the sound as it is now "
              "(positive: still late; r %.2f there, %.2f at the estimate)."),
            op.lag, op.r_lag, op.r_offset);
        }
      /* (a move already made is not offered again: "+0" on a clip not moved) */
      already = gtk_spin_button_get_value_as_int (self->late_spin) == o->offset_frames;
      label = unsure || weak || disputed
              /* TRANSLATORS: an estimate not offered as a move, in parentheses as wav2kp check shows it */
              ? g_strdup_printf (_("Estimate: (%+d)"), o->offset_frames)
              /* TRANSLATORS: the button that sets Sound late by to the estimated offset */
              : g_strdup_printf (_("Estimate: %+d"), o->offset_frames);
      if (unsure)
        why = g_strdup_printf (_("Unsure, so not offered: below confidence %.1f, or at the edge of the search, "
                                 "the estimate is the best lag found, not a measurement."),
                               P.min_offset_confidence);
      else if (weak)
        why = g_strdup_printf (_("Not offered: it explains the mouth better than no move by only %.2f in r "
                                 "(wav2kp check flags an offset from %.2f)."), o->gain, P.min_offset_gain);
      else if (disputed)
        why = g_strdup (_("Not offered: the model disputes it, as wav2kp check --model would."));
      tip = g_strdup_printf (
        /* TRANSLATORS: the Estimate button's tooltip */
        _("The offset estimated from the clip's own sound and its mouth, as wav2kp check estimates it: %+d frames, "
          "confidence %.2f; the sound's speech-band energy and the mouth's opening correlate r %.2f at that lag "
          "against %.2f at 0 (searched within ±%d frames; not the prediction's r of the aperture title). %s A confident "
          "estimate can still be wrong when the sound is another clip's."),
        o->offset_frames, o->confidence, o->peak_r, o->r_zero, o->max_lag,
        why != NULL ? why : already ? _("Sound late by is set to it.") : _("A click sets Sound late by to it."));
      if (model_says != NULL)
        {
          char *with = g_strconcat (tip, "\n\n", model_says, NULL);
          g_free (tip);
          tip = with;
        }
      gtk_button_set_label (self->estimate_button, label);
      gtk_widget_set_tooltip_text (button, tip);
      gtk_widget_set_sensitive (button, !unsure && !weak && !disputed && !already);
    }
}

typedef struct {
  WkpAvOffset offset;
  GError     *error;
} EstimateResult;

static void
estimate_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  WkpStudioClip *clip = task_data;
  EstimateResult *res = g_new0 (EstimateResult, 1);
  WkpPrepareParams params;
  wkp_prepare_params_init_default (&params);   /* (its search range) */
  wkp_clip_offset_estimate (clip->samples->samples, clip->samples->n_samples, clip->fps, clip->track->points,
                            clip->track->n_frames, params.max_lag, &res->offset, &res->error);
  g_task_return_pointer (task, res, NULL);
}

static void
estimate_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WkpStudioWindow *self = user_data;   /* a reference, held while estimating */
  WkpStudioClip *clip = g_task_get_task_data (G_TASK (result));
  EstimateResult *res = g_task_propagate_pointer (G_TASK (result), NULL);

  if (self->session != NULL && wkp_session_get_clip (self->session) == clip && res != NULL)
    {
      if (res->error == NULL)
        {
          clip->offset_estimate = res->offset;
          clip->has_offset_estimate = TRUE;
        }
      else
        clip->offset_error = g_strdup (res->error->message);
      update_estimate_button (self);
    }
  if (self->estimating == clip)
    g_clear_pointer (&self->estimating, wkp_studio_clip_unref);
  if (res != NULL)
    g_clear_error (&res->error);
  g_free (res);
  g_object_unref (self);
}

/* Starts the estimate once the clip's sound and landmarks are both here. */
static void
maybe_estimate (WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  g_autoptr(GTask) task = NULL;
  if (clip == NULL || !clip->has_video || clip->samples == NULL || clip->track == NULL
      || clip->has_offset_estimate || clip->offset_error != NULL || self->estimating == clip)
    return;
  g_clear_pointer (&self->estimating, wkp_studio_clip_unref);
  self->estimating = wkp_studio_clip_ref (clip);
  task = g_task_new (NULL, NULL, estimate_done, g_object_ref (self));
  g_task_set_task_data (task, wkp_studio_clip_ref (clip), (GDestroyNotify) wkp_studio_clip_unref);
  g_task_set_name (task, "[wkp] offset estimate");
  g_task_run_in_thread (task, estimate_thread);
}

static void
on_estimate_clicked (GtkButton *button, WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  if (clip != NULL && clip->has_offset_estimate && gtk_widget_get_sensitive (GTK_WIDGET (button)))
    gtk_spin_button_set_value (self->late_spin, clip->offset_estimate.offset_frames);
}

static void
on_clip_updated (WkpSession *session, guint part, WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (session);
  gint64 t0 = g_get_monotonic_time ();

  if (part & WKP_CLIP_PART_MEDIA)
    {
      if (self->pending_seek >= 0)
        {
          wkp_studio_window_go_to_frame (self, wkp_session_frame_at (self->session, self->pending_seek));
          self->pending_seek = -1;
        }
      wkp_frame_view_set_source_size (self->frame_view, clip->width, clip->height);
      /* (the move asked for at the open, or none if the clip cannot take it;
       * a value set meanwhile is kept, and applied when the open is done) */
      update_late_spin (self, !self->late_touched);
      if (clip->audio_late != 0)
        wkp_player_set_audio_advance (self->player, late_us (clip->audio_late, clip->fps));
      if (!clip->has_video)
        wkp_frame_view_set_placeholder (self->frame_view, _("Audio only: no video"));
      set_top_share_for_clip (self, clip->has_video);
    }
  if (part & WKP_CLIP_PART_FEATURES)
    {
      wkp_spectrogram_view_set_data (self->spectrogram_view, clip->spectrogram, clip->n_steps, clip->n_coeffs,
                                     clip->steps_rate.num, clip->steps_rate.den);
    }
  if (part & (WKP_CLIP_PART_FEATURES | WKP_CLIP_PART_PREDICTION))
    update_spectrogram_label (self);
  if (part & WKP_CLIP_PART_LANDMARKS)
    {
      g_autofree char *text = NULL;
      wkp_aperture_plot_set_series (self->aperture_plot, WKP_APERTURE_EXTRACTED, clip->extracted_aperture,
                                    clip->track->n_frames, clip->track->fps.num, clip->track->fps.den);
      text = g_strdup_printf (_("Video and extracted landmarks (face found in %lld of %lld frames)"),
                              (long long) clip->n_found, (long long) clip->track->n_frames);
      gtk_label_set_text (self->frame_label, text);
    }
  if (part & WKP_CLIP_PART_PREDICTION)
    {
      wkp_aperture_plot_set_series (self->aperture_plot, WKP_APERTURE_PREDICTED, clip->predicted_aperture,
                                    clip->n_frames, clip->fps.num, clip->fps.den);
      update_estimate_button (self);   /* (the model's opinion of the estimate) */
    }
  if (part & WKP_CLIP_PART_COMPARED)
    wkp_aperture_plot_set_series (self->aperture_plot, WKP_APERTURE_COMPARED, clip->compared_aperture,
                                  clip->n_frames, clip->fps.num, clip->fps.den);
  if (part & (WKP_CLIP_PART_LANDMARKS | WKP_CLIP_PART_PREDICTION | WKP_CLIP_PART_COMPARED))
    update_aperture_label (self);
  set_mouth_note (self);
  update_overlays (self);
  update_time_label (self);
  if (part & (WKP_CLIP_PART_MEDIA | WKP_CLIP_PART_LANDMARKS))
    maybe_estimate (self);
  g_debug ("clip part %u applied in %.1f ms", part, (g_get_monotonic_time () - t0) / 1000.0);
}

/* --- jobs ------------------------------------------------------------------ */

static void
on_job_progress (WkpOpenJob *job, WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  gtk_progress_bar_set_fraction (self->progress_bar, wkp_open_job_get_fraction (job));
  /* after a failure the status line keeps the error; the bar still moves */
  if (clip == NULL || clip->errors == NULL)
    gtk_label_set_text (self->status_label, wkp_open_job_get_status (job));
}

static void
on_job_failed (WkpOpenJob *job, guint part, const char *message, WkpStudioWindow *self)
{
  /* the engine's message (English, names the file and the problem) after a
   * translated word on which analysis failed */
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  /* a video shown without its audio (see the open job) */
  gboolean no_audio = clip != NULL && (clip->parts & WKP_CLIP_PART_MEDIA) && clip->samples == NULL;
  const char *what = part == WKP_CLIP_PART_MEDIA       ? _("Cannot read the clip")
                   : no_audio                          ? _("No audio (drop the video together with its WAV, or use --audio)")
                   : part == WKP_CLIP_PART_FEATURES    ? _("Audio features failed")
                   : part == WKP_CLIP_PART_LANDMARKS && clip != NULL && clip->landmarks_file != NULL
                                                       ? _("Landmark file not used")
                   : part == WKP_CLIP_PART_LANDMARKS   ? _("Landmark extraction failed")
                   : part == WKP_CLIP_PART_PREDICTION  ? _("Prediction failed")
                   : part == WKP_CLIP_PART_COMPARED    ? _("Comparison failed")
                                                       : _("Analysis failed");
  g_autofree char *text = g_strdup_printf (_("%s: %s"), what, message);

  /* one bad file fails several analyses with the same cause: the status line
   * keeps the first, or the media one (the root cause) whenever it comes;
   * the tooltip lists them all */
  if (part == WKP_CLIP_PART_MEDIA || clip == NULL || clip->errors == NULL || strchr (clip->errors, '\n') == NULL)
    gtk_label_set_text (self->status_label, text);
  if (part == WKP_CLIP_PART_MEDIA)
    {
      self->unreadable = TRUE;
      set_unplayable (self, TRUE);
      /* nothing to show: say why where the picture would be */
      g_autofree char *big = g_strdup_printf ("%s\n\n%s", what, message);
      wkp_frame_view_set_placeholder (self->frame_view, big);
    }
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), clip != NULL && clip->errors != NULL ? clip->errors : text);
  set_mouth_note (self);
  update_spectrogram_label (self);
}

/* How far the open clip's sound and pictures differ in length beyond
 * prepare's length-mismatch rule (seconds), else 0. */
static double
length_mismatch (const WkpStudioClip *clip)
{
  WkpPrepareParams pp;
  double audio_s = (double) clip->samples->n_samples / clip->samples->rate;
  double video_s = (double) clip->n_frames * clip->fps.den / clip->fps.num;
  wkp_prepare_params_init_default (&pp);
  return fabs (audio_s - video_s) > pp.max_length_mismatch ? fabs (audio_s - video_s) : 0;
}

static void
on_job_finished (WkpOpenJob *job, gboolean cancelled, WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), FALSE);
  if (cancelled)
    gtk_label_set_text (self->status_label, _("Cancelled"));
  else if (clip != NULL && clip->errors == NULL && self->playback_error == NULL && clip->has_video
           && clip->samples != NULL && clip->samples->rate > 0 && wkp_rational_is_valid (clip->fps)
           && length_mismatch (clip) > 0)
    {
      /* a WAV paired with another clip's video showed "Ready" over the other
       * speech and a meaningless r (prepare flags it, the CLI says it) */
      double audio_s = (double) clip->samples->n_samples / clip->samples->rate;
      double video_s = (double) clip->n_frames * clip->fps.den / clip->fps.num;
      /* TRANSLATORS: the sound and the video of the open clip last different times: the sound of another clip? */
      g_autofree char *text = g_strdup_printf (_("Ready · the sound (%.2f s) and the pictures (%.2f s) differ in "
                                                 "length by %.2f s: is the sound another clip's? There is a frame "
                                                 "per picture; %s"),
                                               audio_s, video_s, fabs (audio_s - video_s),
                                               audio_s < video_s ? _("the missing sound reads as silence")
                                                                 : _("the sound after the last picture is unused"));
      set_status (self, text);
    }
  else if (clip != NULL && clip->errors == NULL && self->playback_error == NULL && clip->samples != NULL
           && clip->samples->inverted_channels != 0)
    set_status (self, _("Ready · a channel of the sound was in antiphase (reversed polarity) and was inverted "
                        "before mixing to mono"));
  else if (clip != NULL && clip->errors == NULL && self->playback_error == NULL && clip->has_video
           && wkp_media_timing_irregular (clip->timing_error_us, clip->fps) && !clip->resampled)
    /* TRANSLATORS: timestamps that start again or leap far ahead (joined files): read one picture per frame */
    set_status (self, _("Ready · the frames' timestamps jump (joined files or a broken clock), so the pictures are "
                        "read one per frame; where they jump, pictures and sound can be far apart"));
  else if (clip != NULL && clip->errors == NULL && self->playback_error == NULL && clip->has_video
           && wkp_media_timing_irregular (clip->timing_error_us, clip->fps))
    {
      /* TRANSLATORS: a variable frame rate: the pictures are read by their timestamps on a constant grid of
       * frames (frame k is the picture on screen at k/fps), which the landmarks and the sound are paired on */
      g_autofree char *text = g_strdup_printf (_("Ready · the frames' timestamps are irregular (a variable frame "
                                                 "rate or dropped frames): up to %.0f ms from a constant %.3f fps; "
                                                 "read by their timestamps on that grid: %d frames from %d "
                                                 "pictures, %d frames repeat a picture, %d pictures are dropped"),
                                               clip->timing_error_us / 1000.0, wkp_rational_to_double (clip->fps),
                                               (int) MIN (clip->n_frames, G_MAXINT),
                                               (int) MIN (clip->n_pictures, G_MAXINT),
                                               (int) MIN (clip->n_frames - clip->n_shown, G_MAXINT),
                                               (int) MIN (clip->n_pictures - clip->n_shown, G_MAXINT));
      set_status (self, text);
    }
  else if (clip != NULL && clip->errors == NULL && self->playback_error == NULL && !self->sound_job
           && clip->audio_late_asked != clip->audio_late && (clip->parts & WKP_CLIP_PART_MEDIA))
    {
      /* a move the clip cannot take is said, not dropped without a word (as
       * the CLI refuses it) */
      g_autofree char *text = clip->has_video && clip->audio_late != 0
        /* TRANSLATORS: a dataset's move beyond the studio's range */
        ? g_strdup_printf (_("Ready · the sound was moved by %d frames, not %d: at most %d either way"),
                           clip->audio_late, clip->audio_late_asked, WKP_STUDIO_MAX_LATE)
        : clip->has_video
        /* TRANSLATORS: a move of the sound (--audio-late, or a dataset's) the clip is too short for */
        ? g_strdup_printf (_("Ready · the sound was not moved by %d frames: the clip has %lld"),
                           clip->audio_late_asked, (long long) clip->n_frames)
        : g_strdup_printf (_("Ready · the sound was not moved by %d frames: the clip has no pictures to move it "
                             "against"), clip->audio_late_asked);
      set_status (self, text);
    }
  else if (clip != NULL && clip->errors == NULL && self->playback_error == NULL && clip->video != NULL
           && wkp_media_is_pattern (clip->video) && !wkp_rational_is_valid (clip->fps_hint)
           && !wkp_media_sequence_recorded_rate (clip->video, NULL))
    {
      /* a rate nobody gave: said, so that a 30 fps sequence is not taken for
       * a slow one (and its sound for another clip's) */
      g_autofree char *rate = g_strdup_printf ("%.5g", wkp_rational_to_double (clip->fps));
      /* TRANSLATORS: an image sequence's frame rate, assumed: no --fps, no frames.json of wav2kp frames */
      g_autofree char *text = g_strdup_printf (_("Ready · the pictures are read at %s fps, assumed: nothing gives "
                                                 "their rate (open with --fps RATE to change it)"), rate);
      set_status (self, text);
    }
  else if (clip != NULL && clip->errors == NULL)
    set_status (self, ready_text (self));
  g_signal_handlers_disconnect_by_data (job, self);   /* a pending progress idle may still fire */
  if (job == self->job)
    {
      g_clear_object (&self->job);
      self->sound_job = FALSE;
      set_mouth_note (self);   /* a failed or cancelled open predicts nothing more */
      if (!cancelled)
        apply_audio_late (self);   /* a move asked for meanwhile */
    }
}

static void
cancel_job (WkpStudioWindow *self)
{
  self->sound_job = FALSE;
  if (self->job == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->job, self);
  wkp_open_job_cancel (self->job);
  g_clear_object (&self->job);
}

char *
wkp_studio_default_model (void)
{
  const char *env = g_getenv ("WKP_MODEL");
  g_autofree char *installed = g_build_filename (WKP_PKGDATADIR, "default.wkpm", NULL);
  g_autofree char *source = g_build_filename (WKP_SOURCE_DIR, "data", "default.wkpm", NULL);

  if (env != NULL)
    return *env != '\0' ? g_strdup (env) : NULL;
  if (g_file_test (installed, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&installed);
  if (g_file_test (source, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&source);
  return NULL;
}

static void
add_recent (WkpStudioWindow *self, const char *path)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *dir = NULL;
  if (path == NULL || strchr (path, '%') != NULL)
    return;
  file = g_file_new_for_path (path);
  uri = g_file_get_uri (file);
  gtk_recent_manager_add_item (gtk_recent_manager_get_default (), uri);
  dir = g_path_get_dirname (path);
  g_settings_set_string (self->settings, "last-folder", dir);
}

void
wkp_studio_window_open (WkpStudioWindow *self, const WkpOpenRequest *request)
{
  g_autoptr(WkpStudioClip) clip = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *model = NULL;
  g_autofree char *title = NULL;
  g_autofree char *kind = NULL;

  gint64 t0 = g_get_monotonic_time ();

  WkpOpenRequest paired;
  g_autofree char *companion = NULL;

  g_return_if_fail (request->video != NULL || request->audio != NULL);

  /* a video without sound: its WAV where corpora keep it (clip.wav beside
   * it, or wav/clip.wav beside its folder), as `wav2kp prepare` pairs them
   * (the headers are probed on this thread only when such a WAV exists) */
  if (request->video != NULL && request->audio == NULL
      && (companion = wkp_media_silent_video_companion (request->video)) != NULL)
    {
      paired = *request;
      paired.audio = companion;
      request = &paired;
    }

  cancel_job (self);
  model = request->model != NULL ? g_strdup (request->model) : wkp_studio_default_model ();
  clip = wkp_studio_clip_new (request->video, request->audio, request->landmarks, model, request->fps);
  clip->speaker = g_strdup (request->speaker);
  clip->compare_model_file = g_strdup (request->compare_model);
  /* (a sound alone has nothing to move against) */
  clip->audio_late_asked = request->audio_late;
  clip->audio_late = request->video != NULL ? CLAMP (request->audio_late, -WKP_STUDIO_MAX_LATE, WKP_STUDIO_MAX_LATE)
                                            : 0;

  wkp_frame_view_set_frame (self->frame_view, NULL, -1);
  wkp_frame_view_set_placeholder (self->frame_view, NULL);
  wkp_spectrogram_view_set_data (self->spectrogram_view, NULL, 0, 0, 0, 0);
  for (int s = 0; s < WKP_APERTURE_N_SERIES; s++)
    wkp_aperture_plot_set_series (self->aperture_plot, s, NULL, 0, 0, 0);
  gtk_label_set_text (self->frame_label, _("Video and extracted landmarks"));
  wkp_session_set_clip (self->session, clip);
  update_aperture_label (self);
  set_unplayable (self, FALSE);

  title = wkp_studio_clip_title (clip);
  gtk_window_set_title (GTK_WINDOW (self), title);

  /* the player takes the clip's move when its frame rate is known (MEDIA) */
  g_clear_handle_id (&self->late_timeout, g_source_remove);
  self->late_touched = FALSE;
  update_late_spin (self, TRUE);
  update_estimate_button (self);
  if (!wkp_player_open (self->player, request->video, request->audio, request->fps, &error))
    set_playback_error (self, error->message);

  kind = g_settings_get_string (self->settings, "spectrogram-kind");
  self->job = wkp_open_job_new (self->session, kind);
  g_signal_connect (self->job, "progress", G_CALLBACK (on_job_progress), self);
  g_signal_connect (self->job, "part-failed", G_CALLBACK (on_job_failed), self);
  g_signal_connect (self->job, "finished", G_CALLBACK (on_job_finished), self);
  set_mouth_note (self);   /* "Predicting…" while the job runs */
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), TRUE);
  wkp_open_job_start (self->job);
  on_job_progress (self->job, self);

  add_recent (self, request->video != NULL ? request->video : request->audio);
  g_debug ("open took %.1f ms on the main thread", (g_get_monotonic_time () - t0) / 1000.0);
}

static gboolean
is_audio_file (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *type = g_content_type_guess (name, NULL, 0, NULL);
  return g_content_type_is_a (type, "audio/*");
}

/* An image by name or, for extension-less frames (VidTIMIT), by content. */
static gboolean
is_image_file (const char *path)
{
  guchar head[256];
  gsize n = wkp_read_head (path, head, sizeof head);
  g_autofree char *type = g_content_type_guess (path, n > 0 ? head : NULL, n, NULL);
  return g_content_type_is_a (type, "image/*");
}

char *
wkp_studio_sequence_for_frame (const char *path)
{
  return !wkp_media_is_pattern (path) && is_image_file (path) ? wkp_media_sequence_for_frame (path) : NULL;
}

/* Copies of the model and compared model in use (the open clip's, else
 * those given before any clip), for opening another clip with them. */
static void
current_models (WkpStudioWindow *self, char **model, char **compare)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  *model = g_strdup (clip != NULL ? clip->model_file : self->models_before_clip[0]);
  *compare = g_strdup (clip != NULL ? clip->compare_model_file : self->models_before_clip[1]);
}

void
wkp_studio_window_open_files (WkpStudioWindow *self, GFile **files, int n_files)
{
  g_autofree char *video = NULL, *audio = NULL, *model = NULL, *compare = NULL;
  WkpOpenRequest request = { 0 };

  for (int i = 0; i < n_files; i++)
    {
      char *path = g_file_get_path (files[i]);
      if (path == NULL)
        continue;
      if (n_files == 1 && wkp_dataset_window_is_dataset (path))
        {
          /* a dataset (its folder dropped, or its dataset.json picked): its clips */
          wkp_studio_window_open_dataset (self, path);
          g_free (path);
          return;
        }
      if (is_audio_file (files[i]) && audio == NULL)
        audio = path;
      else if (video == NULL)
        {
          char *pattern = wkp_studio_sequence_for_frame (path);
          if (pattern != NULL)
            {
              g_free (path);
              path = pattern;
            }
          video = path;
        }
      else
        g_free (path);
    }
  if (video == NULL && audio == NULL)
    return;
  /* the models in use stay, as when a dataset's clip is opened (Ctrl+O used
   * to fall back to the default model and drop the compared one) */
  current_models (self, &model, &compare);
  request.video = video;
  request.audio = audio;
  request.model = model;
  request.compare_model = compare;
  wkp_studio_window_open (self, &request);
}

/* --- playback and seeking ---------------------------------------------------- */

/* Zoomed in, a step or a jump to a frame whose start (the playhead) is out
 * of view pages the views: past the right edge it lands a tenth in from the
 * left (as playback does), past the left edge a tenth in from the right.
 * Only for keys and jumps: a click or drag lands in view by definition, and
 * paging under the pointer (for the partial frame at an edge) would move
 * the timeline away from it. */
static void
keep_frame_visible (WkpStudioWindow *self)
{
  gint64 frame = wkp_session_frame_at (self->session, wkp_session_get_position (self->session));
  gint64 start = wkp_session_frame_start (self->session, frame);
  gint64 next = wkp_session_frame_start (self->session, frame + 1);
  gint64 rs, re, span;
  wkp_session_get_range (self->session, &rs, &re);
  span = re - rs;
  if (start >= re)
    wkp_session_pan (self->session, MIN (start, MAX (next - span, start - span / 10)) - rs);
  else if (start < rs)
    wkp_session_pan (self->session, MAX (next, start + span / 10) - re);
}

void
wkp_studio_window_go_to_frame (WkpStudioWindow *self, gint64 frame)
{
  wkp_studio_window_seek_frame (self, frame);
  keep_frame_visible (self);
}

void
wkp_studio_window_seek_frame (WkpStudioWindow *self, gint64 frame)
{
  gint64 n = wkp_session_n_frames (self->session);
  gint64 start, next;
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  if (clip == NULL)
    return;
  if (n > 0)
    frame = CLAMP (frame, 0, n - 1);
  start = wkp_session_frame_start (self->session, frame);
  next = wkp_session_frame_start (self->session, frame + 1);
  wkp_session_set_position (self->session, start);
  if (!clip->has_video || !wkp_session_get_playing (self->session))
    wkp_session_set_frame (self->session, frame);
  /* seek to the middle of the frame so that rounded timestamps land inside it */
  wkp_player_seek (self->player, (start + next) / 2);
}

void
wkp_studio_window_seek (WkpStudioWindow *self, gint64 us)
{
  wkp_studio_window_seek_frame (self, wkp_session_frame_at (self->session, us));
}

void
wkp_studio_window_set_playing (WkpStudioWindow *self, gboolean playing)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  if (clip == NULL)
    playing = FALSE;
  gboolean was_playing = wkp_session_get_playing (self->session);
  if (playing && wkp_session_get_position (self->session) >= wkp_session_get_duration (self->session)
      && wkp_session_get_duration (self->session) > 0)
    wkp_studio_window_seek (self, 0);
  wkp_session_set_playing (self->session, playing);
  /* paused: the sink prerolls on the next decoded picture, one or two frames
   * past the clock; stay on the frame shown when Pause was pressed, with the
   * time at its start, so that picture, landmarks and time agree. A sound
   * alone settles on its frame too (the frame the position is in): it
   * stopped between two frames, off the grid everything else keeps to. */
  if (was_playing && !playing && clip != NULL)
    wkp_studio_window_seek_frame (self, wkp_session_get_frame (self->session));
}

static void
before_paint (GdkFrameClock *clock, WkpStudioWindow *self)
{
  g_object_set_data (G_OBJECT (self), "wkp-paint-start", GSIZE_TO_POINTER ((gsize) g_get_monotonic_time ()));
}

static void
after_paint (GdkFrameClock *clock, WkpStudioWindow *self)
{
  gint64 t0 = (gint64) GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (self), "wkp-paint-start"));
  gint64 dt = g_get_monotonic_time () - t0;
  if (t0 > 0 && dt > 10000)
    g_debug ("slow frame: update+layout+paint %.1f ms", dt / 1000.0);
}

static void
on_realize (GtkWidget *widget, gpointer data)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  g_signal_connect_object (clock, "before-paint", G_CALLBACK (before_paint), widget, 0);
  g_signal_connect_object (clock, "after-paint", G_CALLBACK (after_paint), widget, 0);
}

static gboolean
tick (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  WkpStudioWindow *self = WKP_STUDIO_WINDOW (widget);
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  g_autoptr(GdkTexture) texture = NULL;
  gint64 pts = -1, pos;

  if (clip == NULL)
    return G_SOURCE_CONTINUE;

  /* the displayed picture, synchronised to the pipeline clock by the sink */
  texture = wkp_player_take_frame (self->player, &pts);
  if (texture != NULL)
    {
      /* 1 ms of slack: container timestamps of 30000/1001 video are rounded
       * down (frame 1 at 33366 us, its exact start is 33366.67 us); a sample
       * clipped by an accurate seek carries the seek time, inside its frame */
      gint64 frame = pts >= 0 ? wkp_session_frame_at (self->session, pts + 1000)
                              : wkp_session_get_frame (self->session);
      wkp_frame_view_set_frame (self->frame_view, texture, frame);
      wkp_session_set_frame (self->session, frame);
    }

  if (wkp_session_get_playing (self->session) && wkp_player_get_position (self->player, &pos))
    {
      gint64 s, e;
      wkp_session_set_position (self->session, pos);
      wkp_session_get_selection (self->session, &s, &e);
      if (wkp_session_get_loop (self->session) && wkp_session_has_selection (self->session) && pos >= e)
        wkp_studio_window_seek (self, s);
      /* keep the playhead visible */
      {
        gint64 rs, re;
        wkp_session_get_range (self->session, &rs, &re);
        if (pos > re || pos < rs)
          wkp_session_pan (self->session, pos - rs - (re - rs) / 10);
      }
    }
  return G_SOURCE_CONTINUE;
}

static void
on_eos (WkpPlayer *player, WkpStudioWindow *self)
{
  gint64 s, e;
  if (wkp_session_get_loop (self->session))
    {
      wkp_session_get_selection (self->session, &s, &e);
      wkp_studio_window_seek (self, wkp_session_has_selection (self->session) ? s : 0);
      return;
    }
  wkp_session_set_playing (self->session, FALSE);
  wkp_session_set_position (self->session, wkp_session_get_duration (self->session));
}

static void
on_player_error (WkpPlayer *player, const char *message, WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);

  wkp_session_set_playing (self->session, FALSE);
  /* the pipeline stops at an error: playing again would do nothing */
  set_unplayable (self, TRUE);
  /* GStreamer's words ("Internal data stream error.") never replace the
   * analysis' message, which names the file and the problem */
  if (clip != NULL && clip->errors != NULL)
    return;
  set_playback_error (self, message);
}

/* --- gestures from the time views ---------------------------------------------- */

static void
on_view_seek (WkpTimeView *view, gint64 us, WkpStudioWindow *self)
{
  wkp_studio_window_seek (self, us);
}

static void
on_view_select (WkpTimeView *view, gint64 start, gint64 end, WkpStudioWindow *self)
{
  wkp_session_set_selection (self->session, start, end);
}

static void
on_view_zoom (GtkWidget *view, gint64 anchor, double factor, WkpStudioWindow *self)   /* a time view or the overview */
{
  wkp_session_zoom (self->session, anchor, factor);
}

static void
on_view_pan (GtkWidget *view, gint64 delta, WkpStudioWindow *self)   /* a time view or the overview */
{
  wkp_session_pan (self->session, delta);
}

static void
bind_time_view (WkpStudioWindow *self, WkpTimeView *view)
{
  static const char *props[] = { "position", "range-start", "range-end", "selection-start", "selection-end",
                                 "duration" };
  for (guint i = 0; i < G_N_ELEMENTS (props); i++)
    g_object_bind_property (self->session, props[i], view, props[i], G_BINDING_SYNC_CREATE);
  g_signal_connect (view, "seek", G_CALLBACK (on_view_seek), self);
  g_signal_connect (view, "select", G_CALLBACK (on_view_select), self);
  g_signal_connect (view, "zoom", G_CALLBACK (on_view_zoom), self);
  g_signal_connect (view, "pan", G_CALLBACK (on_view_pan), self);
}

/* The overview shows the whole clip: the same properties as a time view, but
 * it only ever moves or zooms the view. */
static void
bind_overview (WkpStudioWindow *self)
{
  static const char *props[] = { "position", "range-start", "range-end", "selection-start", "selection-end",
                                 "duration" };
  for (guint i = 0; i < G_N_ELEMENTS (props); i++)
    g_object_bind_property (self->session, props[i], self->overview_bar, props[i], G_BINDING_SYNC_CREATE);
  g_signal_connect (self->overview_bar, "pan", G_CALLBACK (on_view_pan), self);
  g_signal_connect (self->overview_bar, "zoom", G_CALLBACK (on_view_zoom), self);
}

/* --- actions ---------------------------------------------------------------- */

static void
on_open_response (GtkNativeDialog *dialog, int response, WkpStudioWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      guint n = g_list_model_get_n_items (files);
      g_autoptr(GPtrArray) arr = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < n; i++)
        g_ptr_array_add (arr, g_list_model_get_item (files, i));
      wkp_studio_window_open_files (self, (GFile **) arr->pdata, (int) arr->len);
    }
  g_object_unref (dialog);
}

/* A filter of two MIME types, or of every file when both are NULL. */
static void
add_file_filter (GtkFileChooser *chooser, const char *name, const char *type1, const char *type2)
{
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, name);
  if (type1 == NULL && type2 == NULL)
    gtk_file_filter_add_pattern (filter, "*");
  if (type1 != NULL)
    gtk_file_filter_add_mime_type (filter, type1);
  if (type2 != NULL)
    gtk_file_filter_add_mime_type (filter, type2);
  gtk_file_chooser_add_filter (chooser, filter);
  g_object_unref (filter);
}

static void
action_open (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  GtkFileChooserNative *dialog;
  g_autofree char *folder = g_settings_get_string (self->settings, "last-folder");

  dialog = gtk_file_chooser_native_new (_("Open Media"), GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                        _("_Open"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (dialog), TRUE);
  add_file_filter (GTK_FILE_CHOOSER (dialog), _("Video and audio files"), "video/*", "audio/*");
  add_file_filter (GTK_FILE_CHOOSER (dialog), _("Image sequence (pick any frame, and a sound file)"), "image/*",
                   "audio/*");
  add_file_filter (GTK_FILE_CHOOSER (dialog), _("All files"), NULL, NULL);
  if (folder != NULL && *folder != '\0')
    {
      g_autoptr(GFile) dir = g_file_new_for_path (folder);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (dialog), dir, NULL);
    }
  g_signal_connect (dialog, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
action_open_recent (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  g_autoptr(GFile) file = g_file_new_for_uri (g_variant_get_string (param, NULL));
  GFile *files[1] = { file };
  wkp_studio_window_open_files (user_data, files, 1);
}

static void
action_play_pause (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  wkp_studio_window_set_playing (self, !wkp_session_get_playing (self->session));
}

static void
step (WkpStudioWindow *self, gint64 delta)
{
  wkp_session_set_playing (self->session, FALSE);
  wkp_studio_window_go_to_frame (self, wkp_session_get_frame (self->session) + delta);
}

static void
action_step_back (GSimpleAction *a, GVariant *p, gpointer user_data) { step (user_data, -1); }
static void
action_step_forward (GSimpleAction *a, GVariant *p, gpointer user_data) { step (user_data, 1); }

static void
action_go_start (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  wkp_studio_window_go_to_frame (user_data, 0);
}

static void
action_go_end (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  wkp_session_set_playing (self->session, FALSE);
  wkp_studio_window_go_to_frame (self, wkp_session_n_frames (self->session) - 1);
}

static void
zoom (WkpStudioWindow *self, double factor)
{
  wkp_session_zoom (self->session, wkp_session_get_position (self->session), factor);
}

static void
action_zoom_in (GSimpleAction *a, GVariant *p, gpointer user_data) { zoom (user_data, 0.5); }
static void
action_zoom_out (GSimpleAction *a, GVariant *p, gpointer user_data) { zoom (user_data, 2.0); }

static void
set_rate_index (WkpStudioWindow *self, int i)
{
  i = CLAMP (i, 0, (int) G_N_ELEMENTS (rates) - 1);
  gtk_drop_down_set_selected (self->rate_dropdown, i);
}

static void
action_slower (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  set_rate_index (self, (int) gtk_drop_down_get_selected (self->rate_dropdown) - 1);
}

static void
action_faster (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  set_rate_index (self, (int) gtk_drop_down_get_selected (self->rate_dropdown) + 1);
}

static void
action_clear_selection (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  wkp_session_set_selection (WKP_STUDIO_WINDOW (user_data)->session, -1, -1);
}

/* --- selection from the keyboard ---------------------------------------------- */

static gboolean selection_frames (WkpStudioWindow *self, gint64 *first, gint64 *end);

/* Selects the frames from @a to @b, both included, in either order. */
static void
select_frames (WkpStudioWindow *self, gint64 a, gint64 b)
{
  gint64 n = wkp_session_n_frames (self->session);
  gint64 first = CLAMP (MIN (a, b), 0, n - 1), last = CLAMP (MAX (a, b), 0, n - 1);
  gint64 end = MIN (wkp_session_frame_start (self->session, last + 1), wkp_session_get_duration (self->session));
  wkp_session_set_selection (self->session, wkp_session_frame_start (self->session, first), end);
}

/* The frame on screen, or -1 when there is no clip to select in. */
static gint64
selection_frame (WkpStudioWindow *self)
{
  gint64 n = wkp_session_n_frames (self->session);
  if (wkp_session_get_clip (self->session) == NULL || n <= 0 || wkp_session_get_duration (self->session) <= 0)
    return -1;
  return CLAMP (wkp_session_get_frame (self->session), 0, n - 1);
}

/* I: the selection starts at the frame on screen; it keeps its end when that
 * is after it, else runs to the end of the clip (as an in point alone does
 * in a video editor). Selections needed the mouse (Shift+drag; studio QA). */
static void
action_select_in (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  gint64 frame = selection_frame (self), first, end, last;
  if (frame < 0)
    return;
  last = wkp_session_n_frames (self->session) - 1;
  if (selection_frames (self, &first, &end) && end - 1 >= frame)
    last = end - 1;
  select_frames (self, frame, last);
}

/* O: the selection ends with the frame on screen (included); it keeps its
 * start when that is before it, else starts at the clip's start. */
static void
action_select_out (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  gint64 frame = selection_frame (self), first, end, start = 0;
  if (frame < 0)
    return;
  if (selection_frames (self, &first, &end) && first <= frame)
    start = first;
  select_frames (self, start, frame);
}

/* Shift+Left/Right: a frame step that takes the selection along, as Shift
 * and an arrow do in text: from the frame on screen when nothing is
 * selected (or the playhead is away from the selection), else the edge the
 * playhead is on moves and the other stays. */
static void
extend_selection (WkpStudioWindow *self, gint64 delta)
{
  gint64 frame = selection_frame (self), first, end, anchor, target;
  if (frame < 0)
    return;
  anchor = frame;
  if (selection_frames (self, &first, &end))
    {
      if (frame == end - 1)
        anchor = first;
      else if (frame == first)
        anchor = end - 1;
    }
  target = CLAMP (frame + delta, 0, wkp_session_n_frames (self->session) - 1);
  wkp_session_set_playing (self->session, FALSE);
  select_frames (self, anchor, target);
  wkp_studio_window_go_to_frame (self, target);
}

static void
action_select_back (GSimpleAction *a, GVariant *p, gpointer user_data) { extend_selection (user_data, -1); }
static void
action_select_forward (GSimpleAction *a, GVariant *p, gpointer user_data) { extend_selection (user_data, 1); }

static void
action_cancel_jobs (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  if (self->job != NULL)
    wkp_open_job_cancel (self->job);
  if (self->task_cancellable != NULL)
    g_cancellable_cancel (self->task_cancellable);
}

/* --- export ------------------------------------------------------------------ */

static void
export_progress (gint64 done, gint64 total, const char *what, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  if (total > 0)
    g_atomic_int_set (&self->export_permille, (int) (1000 * MIN (done, total) / total));
}

static gboolean
export_tick (gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  gtk_progress_bar_set_fraction (self->progress_bar, g_atomic_int_get (&self->export_permille) / 1000.0);
  return G_SOURCE_CONTINUE;
}

static void
export_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WkpStudioWindow *self = user_data;   /* a reference, held while exporting */
  g_autoptr(GError) error = NULL;
  g_autofree char *output = g_steal_pointer (&self->export_output);
  gboolean ok = wkp_studio_export_finish (result, &error);

  if (self->session != NULL)   /* not disposed meanwhile */
    {
      g_autofree char *text = NULL;
      if (ok)
        {
          /* the next Export starts there (it proposed the clip's folder
           * every time, even right after exporting elsewhere; QA pass) */
          g_autofree char *dir = g_path_get_dirname (output);
          g_autofree char *abs = g_canonicalize_filename (dir, NULL);
          g_settings_set_string (self->settings, "export-folder", abs);
          text = g_strdup_printf (_("Exported %s"), output);
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        text = g_strdup (_("Export cancelled"));
      else
        text = g_strdup_printf (_("Export failed: %s"), error->message);
      set_status (self, text);
      gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), FALSE);
    }
  g_clear_handle_id (&self->export_tick, g_source_remove);
  g_clear_object (&self->task_cancellable);
  if (self->session != NULL)
    apply_audio_late (self);
  if (g_application_get_default () != NULL)
    g_application_release (g_application_get_default ());
  g_object_unref (self);
}

static void
export_range (WkpStudioWindow *self, const char *output, gint64 start_frame, gint64 end_frame)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);

  if (self->export_output != NULL)
    {
      /* (it said "Export failed" while the running export went on) */
      g_autofree char *text = g_strdup_printf (_("Exporting %s… (one export at a time: wait until it has finished, "
                                                 "or cancel it)"), self->export_output);
      set_status (self, text);
      return;
    }
  if (clip == NULL || wkp_studio_window_is_busy (self))
    {
      set_status (self, clip == NULL ? _("Export failed: no clip open")
                                     : _("Export failed: wait until the analysis or the export running now has finished"));
      return;
    }
  self->task_cancellable = g_cancellable_new ();
  self->export_output = g_strdup (output);
  g_atomic_int_set (&self->export_permille, 0);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), TRUE);
  {
    g_autofree char *text = g_strdup_printf (_("Exporting %s…"), output);
    set_status (self, text);
  }
  self->export_tick = g_timeout_add (100, export_tick, self);
  /* the application lives until the export has ended: Quit during one
   * cancels it (the window's dispose), and its temporary file goes before
   * the process does (it was left behind, .NAME.XXXXXX.part) */
  if (g_application_get_default () != NULL)
    g_application_hold (g_application_get_default ());
  wkp_studio_export_async (clip, output, start_frame, end_frame, export_progress, self, self->task_cancellable,
                           export_done, g_object_ref (self));
}

void
wkp_studio_window_export (WkpStudioWindow *self, const char *output)
{
  export_range (self, output, 0, 0);
}

/* the frames that overlap the selection [start, end) */
static gboolean
selection_frames (WkpStudioWindow *self, gint64 *first, gint64 *end)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  gint64 s, e;
  if (clip == NULL || !wkp_session_has_selection (self->session))
    return FALSE;
  wkp_session_get_selection (self->session, &s, &e);
  *first = CLAMP (wkp_session_frame_at (self->session, s), 0, MAX (clip->n_frames - 1, 0));
  *end = CLAMP (wkp_session_frame_at (self->session, MAX (e - 1, s)) + 1, *first + 1, MAX (clip->n_frames, 1));
  return TRUE;
}

void
wkp_studio_window_export_selection (WkpStudioWindow *self, const char *output)
{
  gint64 first = 0, end = 0;
  if (!selection_frames (self, &first, &end))
    first = end = 0;
  export_range (self, output, first, end);
}

/* The local path a single-file dialog was accepted with (NULL: cancelled, or
 * not a local file); drops the dialog. */
static char *
take_dialog_path (GtkNativeDialog *dialog, int response)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_object_unref (dialog);
  return file != NULL ? g_file_get_path (file) : NULL;
}

static void
on_export_problem_response (GtkDialog *alert, int response, gpointer data)
{
  gtk_window_destroy (GTK_WINDOW (alert));
}

/* The Export dialog stays open on a name that cannot be exported, with the
 * reason over it, so that the name can be corrected where it was typed (the
 * refusal came in the status line after the dialog had closed; QA pass). */
static void
on_export_response (GtkDialog *dialog, int response, WkpStudioWindow *self)
{
  GtkFileChooser *chooser = GTK_FILE_CHOOSER (dialog);
  /* (only when the choice was offered: asked for otherwise, GTK warned on stderr at every export) */
  const char *choice = g_object_get_data (G_OBJECT (dialog), "wkp-selection-choice") != NULL
                       ? gtk_file_chooser_get_choice (chooser, "selection-only") : NULL;
  gboolean selection_only = g_strcmp0 (choice, "true") == 0;
  g_autoptr(GFile) file = response == GTK_RESPONSE_ACCEPT ? gtk_file_chooser_get_file (chooser) : NULL;
  g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
  g_autofree char *problem = path != NULL ? wkp_studio_export_name_problem (path) : NULL;

  if (problem != NULL)
    {
      GtkWidget *alert = gtk_message_dialog_new (GTK_WINDOW (dialog), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                                 GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s",
                                                 _("This name cannot be exported"));
      gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (alert), "%s", problem);
      g_signal_connect (alert, "response", G_CALLBACK (on_export_problem_response), NULL);
      gtk_window_present (GTK_WINDOW (alert));
      return;
    }
  gtk_window_destroy (GTK_WINDOW (dialog));
  if (path == NULL)
    return;
  if (selection_only)
    wkp_studio_window_export_selection (self, path);
  else
    wkp_studio_window_export (self, path);
}

static void
action_export (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  GtkWidget *dialog;
  g_autofree char *title = NULL, *name = NULL, *dot = NULL;
  g_autofree char *clip_folder = NULL, *folder = NULL;

  if (clip == NULL || wkp_studio_window_is_busy (self))
    {
      wkp_studio_window_export (self, NULL);   /* says why not */
      return;
    }
  if (self->export_dialog != NULL)
    {
      gtk_window_present (self->export_dialog);
      return;
    }
  /* where the last clip was exported, else the open clip's own folder (an
   * image pattern's too) */
  clip_folder = g_settings_get_string (self->settings, "export-folder");
  if (*clip_folder == '\0' || !g_file_test (clip_folder, G_FILE_TEST_IS_DIR))
    {
      g_free (clip_folder);
      clip_folder = g_path_get_dirname (clip->video != NULL ? clip->video : clip->audio);
    }
  folder = wkp_studio_export_folder (clip_folder);
  /* a GtkFileChooserDialog rather than a native one: it can stay open when
   * the name is refused (a native dialog closes before it is answered) */
  dialog = gtk_file_chooser_dialog_new (_("Export Clip"), GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                        _("_Cancel"), GTK_RESPONSE_CANCEL, _("_Export"), GTK_RESPONSE_ACCEPT, NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  title = wkp_studio_clip_title (clip);
  g_strdelimit (title, "/", '-');   /* an image sequence's "speaker/video/take" */
  dot = strrchr (title, '.') != NULL ? g_strndup (title, strrchr (title, '.') - title) : g_strdup (title);
  name = g_strdup_printf ("%s-wav2kp.mp4", dot);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  if (folder != NULL && *folder != '\0')
    {
      g_autoptr(GFile) dir = g_file_new_for_path (folder);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (dialog), dir, NULL);
    }
  add_file_filter (GTK_FILE_CHOOSER (dialog), _("Videos"), "video/*", NULL);
  /* with a selection, the excerpt is offered (and chosen) */
  {
    gint64 first, end;
    if (selection_frames (self, &first, &end))
      {
        g_autofree char *a = wkp_format_time (wkp_frame_to_us (first, clip->fps));
        g_autofree char *b = wkp_format_time (wkp_frame_to_us (end, clip->fps));
        /* TRANSLATORS: an Export dialog option: the selection's times and frame count */
        g_autofree char *label = g_strdup_printf (ngettext ("Only the selection, %s to %s (%lld frame)",
                                                            "Only the selection, %s to %s (%lld frames)",
                                                            (unsigned long) (end - first)),
                                                  a, b, (long long) (end - first));
        gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (dialog), "selection-only", label, NULL, NULL);
        gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (dialog), "selection-only", "true");
        g_object_set_data (G_OBJECT (dialog), "wkp-selection-choice", GINT_TO_POINTER (TRUE));
      }
  }
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response), self);
  self->export_dialog = GTK_WINDOW (dialog);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->export_dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- compare with a second model ------------------------------------------------ */

typedef struct {
  WkpStudioClip *clip;
  char          *model;
} CompareTask;

static void
compare_task_free (gpointer data)
{
  CompareTask *t = data;
  wkp_studio_clip_unref (t->clip);
  g_free (t->model);
  g_free (t);
}

static void
prediction_free (gpointer data)
{
  wkp_studio_prediction_clear (data);
  g_free (data);
}

static void
compare_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  CompareTask *t = task_data;
  WkpStudioPrediction *p = g_new0 (WkpStudioPrediction, 1);
  GError *error = NULL;
  g_autoptr(WkpAudio) sound = wkp_studio_clip_sound (t->clip);
  if (wkp_studio_predict (t->model, sound, t->clip->fps, t->clip->n_frames, cancellable, p, &error))
    g_task_return_pointer (task, p, prediction_free);
  else
    {
      prediction_free (p);
      g_task_return_error (task, error);
    }
}

static void
compare_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WkpStudioWindow *self = user_data;   /* a reference, held while predicting */
  CompareTask *t = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  WkpStudioPrediction *p = g_task_propagate_pointer (G_TASK (result), &error);

  if (self->session != NULL && wkp_session_get_clip (self->session) == t->clip)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), FALSE);
      if (p != NULL)
        {
          g_free (t->clip->compare_model_file);
          t->clip->compare_model_file = g_strdup (t->model);
          wkp_studio_clip_set_compared (t->clip, g_steal_pointer (&p->canon), g_steal_pointer (&p->aperture),
                                        g_steal_pointer (&p->name), g_steal_pointer (&p->trained_on));
          set_status (self, ready_text (self));
          wkp_session_clip_updated (self->session, WKP_CLIP_PART_COMPARED);
        }
      else
        {
          g_autofree char *text = g_strdup_printf (_("%s: %s"), _("Comparison failed"), error->message);
          set_status (self, text);
        }
    }
  if (p != NULL)
    prediction_free (p);
  g_clear_object (&self->task_cancellable);
  if (self->session != NULL)
    apply_audio_late (self);
  g_object_unref (self);
}

void
wkp_studio_window_compare (WkpStudioWindow *self, const char *model)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  g_autoptr(GTask) task = NULL;
  CompareTask *t;

  if (clip == NULL || clip->samples == NULL || wkp_studio_window_is_busy (self) || model == NULL)
    {
      set_status (self, clip == NULL || wkp_studio_window_is_busy (self)
                        ? _("Comparison failed: wait until a clip is open and its analysis has finished")
                        : _("Comparison failed: the clip has no audio to predict from"));
      return;
    }
  if (clip->model_file != NULL && wkp_path_same_file (model, clip->model_file))
    {
      set_status (self, _("Not compared: it is the model already shown; compare another model"));
      return;
    }
  self->task_cancellable = g_cancellable_new ();
  t = g_new0 (CompareTask, 1);
  t->clip = wkp_studio_clip_ref (clip);
  t->model = g_strdup (model);
  task = g_task_new (NULL, self->task_cancellable, compare_done, g_object_ref (self));
  g_task_set_task_data (task, t, compare_task_free);
  g_task_set_name (task, "[wkp] compare model");
  gtk_progress_bar_pulse (self->progress_bar);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), TRUE);
  set_status (self, _("Predicting with the model to compare…"));
  g_task_run_in_thread (task, compare_thread);
}

static void
on_compare_response (GtkNativeDialog *dialog, int response, WkpStudioWindow *self)
{
  g_autofree char *path = take_dialog_path (dialog, response);
  if (path != NULL)
    wkp_studio_window_compare (self, path);
}

static void
action_compare (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  GtkFileChooserNative *dialog;
  GtkFileFilter *filter;
  WkpStudioClip *clip = wkp_session_get_clip (self->session);

  if (clip == NULL || clip->samples == NULL || wkp_studio_window_is_busy (self))
    {
      wkp_studio_window_compare (self, NULL);   /* says why not */
      return;
    }
  dialog = gtk_file_chooser_native_new (_("Compare With Model"), GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                        _("_Compare"), _("_Cancel"));
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("wav2kp models (*.wkpm)"));
  gtk_file_filter_add_pattern (filter, "*.wkpm");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_object_unref (filter);
  add_file_filter (GTK_FILE_CHOOSER (dialog), _("All files"), NULL, NULL);
  if (clip->model_file != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (clip->model_file);
      g_autoptr(GFile) folder = g_file_new_for_path (dir);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (dialog), folder, NULL);
    }
  g_signal_connect (dialog, "response", G_CALLBACK (on_compare_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}


static void
on_rate_selected (GtkDropDown *dropdown, GParamSpec *pspec, WkpStudioWindow *self)
{
  guint i = gtk_drop_down_get_selected (dropdown);
  if (i < G_N_ELEMENTS (rates))
    wkp_session_set_rate (self->session, rates[i]);
}

static void
on_rate_changed (WkpSession *session, GParamSpec *pspec, WkpStudioWindow *self)
{
  wkp_player_set_rate (self->player, wkp_session_get_rate (session));
}

static void
on_loop_change_state (GSimpleAction *action, GVariant *state, WkpStudioWindow *self)
{
  wkp_session_set_loop (self->session, g_variant_get_boolean (state));
}

static void
on_loop_changed (WkpSession *session, GParamSpec *pspec, GSimpleAction *action)
{
  g_simple_action_set_state (action, g_variant_new_boolean (wkp_session_get_loop (session)));
}

/* --- training curves ------------------------------------------------------------- */

WkpTrainingWindow *
wkp_studio_window_show_training (WkpStudioWindow *self, const char *model_file, const char *compare_file)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  g_autofree char *model = model_file != NULL ? g_strdup (model_file)
                           : clip != NULL && clip->model_file != NULL ? g_strdup (clip->model_file)
                                                                      : wkp_studio_default_model ();
  const char *compare = compare_file != NULL ? compare_file : clip != NULL ? clip->compare_model_file : NULL;
  WkpTrainingWindow *win;

  /* a new one each time: it shows the models of the clip open now */
  if (self->training_window != NULL)
    gtk_window_destroy (self->training_window);
  win = wkp_training_window_new (GTK_WINDOW (self));
  self->training_window = GTK_WINDOW (win);
  g_object_add_weak_pointer (G_OBJECT (win), (gpointer *) &self->training_window);
  if (model != NULL)
    wkp_training_window_add (win, model, 0);
  if (compare != NULL)
    wkp_training_window_add (win, compare, 1);
  gtk_window_present (GTK_WINDOW (win));
  return win;
}

static void
on_dataset_open_clip (WkpDatasetWindow *win, const char *video, const char *audio, const char *landmarks,
                      const char *fps, const char *speaker, int audio_late, WkpStudioWindow *self)
{
  g_autofree char *model = NULL, *compare = NULL;
  WkpOpenRequest request = { 0 };
  current_models (self, &model, &compare);
  request.video = video;
  request.audio = audio;
  request.landmarks = landmarks;
  request.model = model;
  request.compare_model = compare;
  request.speaker = speaker;
  request.audio_late = audio_late;
  if (fps != NULL)
    wkp_rational_parse (fps, &request.fps, NULL);
  wkp_studio_window_open (self, &request);
}

void
wkp_studio_window_set_models (WkpStudioWindow *self, const char *model, const char *compare)
{
  g_free (self->models_before_clip[0]);
  g_free (self->models_before_clip[1]);
  self->models_before_clip[0] = g_strdup (model);
  self->models_before_clip[1] = g_strdup (compare);
}

/* the Dataset window scores its clips with the models in use (the default
 * one when none was named) */
static void
on_dataset_score_requested (WkpDatasetWindow *win, WkpStudioWindow *self)
{
  g_autofree char *model = NULL, *compare = NULL;
  current_models (self, &model, &compare);
  if (model == NULL)
    model = wkp_studio_default_model ();
  wkp_dataset_window_score (win, model, compare);
}

WkpDatasetWindow *
wkp_studio_window_open_dataset (WkpStudioWindow *self, const char *path)
{
  WkpDatasetWindow *win;
  if (self->dataset_window != NULL)
    gtk_window_destroy (self->dataset_window);   /* clears the weak pointer */
  win = wkp_dataset_window_new (GTK_WINDOW (self), path);
  self->dataset_window = GTK_WINDOW (win);
  g_object_add_weak_pointer (G_OBJECT (win), (gpointer *) &self->dataset_window);
  g_signal_connect_object (win, "open-clip", G_CALLBACK (on_dataset_open_clip), self, 0);
  g_signal_connect_object (win, "score-requested", G_CALLBACK (on_dataset_score_requested), self, 0);
  gtk_window_present (GTK_WINDOW (win));
  return win;
}

static void
on_open_dataset_response (GtkNativeDialog *dialog, int response, WkpStudioWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      if (path != NULL)
        wkp_studio_window_open_dataset (self, path);
    }
  g_object_unref (dialog);
}

static void
action_open_dataset (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  WkpStudioWindow *self = user_data;
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (_("Open Dataset (the folder wav2kp prepare wrote)"),
                                                              GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                                              _("_Open"), _("_Cancel"));
  g_signal_connect (dialog, "response", G_CALLBACK (on_open_dataset_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
action_training_curves (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  wkp_studio_window_show_training (user_data, NULL, NULL);
}

static const GActionEntry win_entries[] = {
  { "open", action_open, NULL, NULL, NULL, { 0 } },
  { "open-recent", action_open_recent, "s", NULL, NULL, { 0 } },
  { "open-dataset", action_open_dataset, NULL, NULL, NULL, { 0 } },
  { "play-pause", action_play_pause, NULL, NULL, NULL, { 0 } },
  { "step-back", action_step_back, NULL, NULL, NULL, { 0 } },
  { "step-forward", action_step_forward, NULL, NULL, NULL, { 0 } },
  { "go-start", action_go_start, NULL, NULL, NULL, { 0 } },
  { "go-end", action_go_end, NULL, NULL, NULL, { 0 } },
  { "zoom-in", action_zoom_in, NULL, NULL, NULL, { 0 } },
  { "zoom-out", action_zoom_out, NULL, NULL, NULL, { 0 } },
  { "slower", action_slower, NULL, NULL, NULL, { 0 } },
  { "faster", action_faster, NULL, NULL, NULL, { 0 } },
  { "clear-selection", action_clear_selection, NULL, NULL, NULL, { 0 } },
  { "select-in", action_select_in, NULL, NULL, NULL, { 0 } },
  { "select-out", action_select_out, NULL, NULL, NULL, { 0 } },
  { "select-back", action_select_back, NULL, NULL, NULL, { 0 } },
  { "select-forward", action_select_forward, NULL, NULL, NULL, { 0 } },
  { "cancel-jobs", action_cancel_jobs, NULL, NULL, NULL, { 0 } },
  { "export", action_export, NULL, NULL, NULL, { 0 } },
  { "compare", action_compare, NULL, NULL, NULL, { 0 } },
  { "training-curves", action_training_curves, NULL, NULL, NULL, { 0 } },
  { "sound-late-more", action_sound_late_more, NULL, NULL, NULL, { 0 } },
  { "sound-late-less", action_sound_late_less, NULL, NULL, NULL, { 0 } },
};

/* --- recent files --------------------------------------------------------------- */

static int
recent_newest_first (gconstpointer a, gconstpointer b)
{
  return g_date_time_compare (gtk_recent_info_get_modified ((GtkRecentInfo *) b),
                              gtk_recent_info_get_modified ((GtkRecentInfo *) a));
}

/* "name (folder)": the file name and its folder's, so that two 1.mp4 can be
 * told apart; underscores doubled, or the menu takes them for mnemonics
 * ("sample_video.mp4" showed as "samplevideo.mp4") */
char *
wkp_studio_recent_label (const char *uri)
{
  g_autoptr(GFile) file = g_file_new_for_uri (uri);
  g_autoptr(GFile) parent = g_file_get_parent (file);
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *folder = parent != NULL ? g_file_get_basename (parent) : NULL;
  g_autofree char *label = folder != NULL && strcmp (folder, "/") != 0 ? g_strdup_printf ("%s (%s)", name, folder)
                                                                        : g_strdup (name);
  g_auto(GStrv) parts = g_strsplit (label, "_", -1);
  return g_strjoinv ("__", parts);
}

static void
fill_recent_menu (WkpStudioWindow *self)
{
  GList *items = gtk_recent_manager_get_items (gtk_recent_manager_get_default ());
  int n = 0;
  g_menu_remove_all (self->recent_section);
  items = g_list_sort (items, recent_newest_first);
  for (GList *l = items; l != NULL && n < 8; l = l->next)
    {
      GtkRecentInfo *info = l->data;
      const char *mime = gtk_recent_info_get_mime_type (info);
      g_autoptr(GMenuItem) item = NULL;
      g_autofree char *label = NULL;
      if (mime == NULL || !(g_str_has_prefix (mime, "video/") || g_str_has_prefix (mime, "audio/")))
        continue;
      if (!gtk_recent_info_exists (info))
        continue;
      label = wkp_studio_recent_label (gtk_recent_info_get_uri (info));
      item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target (item, "win.open-recent", "s", gtk_recent_info_get_uri (info));
      g_menu_append_item (self->recent_section, item);
      n++;
    }
  g_list_free_full (items, (GDestroyNotify) gtk_recent_info_unref);
}

/* --- drag and drop --------------------------------------------------------------- */

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, WkpStudioWindow *self)
{
  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *list = g_value_get_boxed (value);
      g_autoptr(GPtrArray) arr = g_ptr_array_new ();
      for (GSList *l = list; l != NULL; l = l->next)
        g_ptr_array_add (arr, l->data);
      wkp_studio_window_open_files (self, (GFile **) arr->pdata, (int) arr->len);
      return arr->len > 0;
    }
  return FALSE;
}

/* --- features kind: recomputed from the clip's audio off the main thread -------------- */

typedef struct {
  WkpStudioClip *clip;
  char          *kind;   /* the preference: "model", "mfcc" or "logmel" */
  int            audio_late;   /* the clip's move when the task started */
} FeaturesTask;

static void
features_task_free (gpointer data)
{
  FeaturesTask *t = data;
  wkp_studio_clip_unref (t->clip);
  g_free (t->kind);
  g_free (t);
}

static void
spectrogram_data_free (gpointer data)
{
  WkpSpectrogramData *sd = data;
  g_clear_pointer (&sd->matrix, g_bytes_unref);
  g_free (sd);
}

static void
features_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  FeaturesTask *t = task_data;
  WkpSpectrogramData *sd = g_new0 (WkpSpectrogramData, 1);
  GError *error = NULL;
  WkpFeatureKind kind = wkp_studio_feature_kind (t->kind, NULL, t->clip->model_file);
  /* (the samples never change; the move is the one the task was started with) */
  g_autoptr(WkpAudio) sound = wkp_studio_clip_sound_moved (t->clip, t->audio_late);
  if (!wkp_spectrogram_data_compute (sound, t->clip->fps, t->clip->n_frames, kind, sd, &error))
    {
      spectrogram_data_free (sd);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, sd, spectrogram_data_free);
}

static void
features_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WkpStudioWindow *self = WKP_STUDIO_WINDOW (source);
  FeaturesTask *t = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  WkpSpectrogramData *sd = g_task_propagate_pointer (G_TASK (result), &error);

  if (sd == NULL)
    {
      gtk_label_set_text (self->status_label, error->message);
      return;
    }
  /* (the sound moved meanwhile: the job that moved it computes them) */
  if (wkp_session_get_clip (self->session) == t->clip && t->clip->audio_late == t->audio_late)
    {
      g_clear_pointer (&t->clip->spectrogram, g_bytes_unref);
      t->clip->spectrogram = g_steal_pointer (&sd->matrix);
      t->clip->n_steps = sd->n_steps;
      t->clip->n_coeffs = sd->n_coeffs;
      t->clip->steps_rate = sd->rate;
      t->clip->logmel = sd->kind == WKP_FEATURE_LOGMEL;
      wkp_session_clip_updated (self->session, WKP_CLIP_PART_FEATURES);
    }
  spectrogram_data_free (sd);
}

static void
on_kind_changed (GSettings *settings, const char *key, WkpStudioWindow *self)
{
  WkpStudioClip *clip = wkp_session_get_clip (self->session);
  g_autofree char *kind = g_settings_get_string (settings, key);
  g_autoptr(GTask) task = NULL;
  FeaturesTask *t;

  if (clip == NULL || clip->samples == NULL)
    return;   /* the next open uses the new kind */
  t = g_new0 (FeaturesTask, 1);
  t->clip = wkp_studio_clip_ref (clip);
  t->kind = g_steal_pointer (&kind);
  t->audio_late = clip->audio_late;
  task = g_task_new (self, NULL, features_done, NULL);
  g_task_set_task_data (task, t, features_task_free);
  g_task_set_name (task, "[wkp] spectrogram features");
  g_task_run_in_thread (task, features_thread);
}

/* --- settings -------------------------------------------------------------------- */

static gboolean
colormap_get (GValue *value, GVariant *variant, gpointer user_data)
{
  g_value_set_enum (value, wkp_colormap_from_string (g_variant_get_string (variant, NULL)));
  return TRUE;
}

static GVariant *
colormap_set (const GValue *value, const GVariantType *type, gpointer user_data)
{
  return g_variant_new_string (wkp_colormap_to_string (g_value_get_enum (value)));
}

/* The installed schema (or one in GSETTINGS_SCHEMA_DIR); run from the build
 * folder before `meson install`, the schema compiled there, so that
 * build/app/studio/wav2kp-studio works as the README says instead of aborting. */
static GSettings *
studio_settings_new (void)
{
  GSettingsSchemaSource *def = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = def ? g_settings_schema_source_lookup (def, "org.wav2kp.Studio", TRUE) : NULL;
  g_autofree char *dir = g_build_filename (WKP_BUILD_DIR, "data", NULL);

  if (schema == NULL)
    {
      g_autoptr(GSettingsSchemaSource) build = g_settings_schema_source_new_from_directory (dir, def, FALSE, NULL);
      if (build != NULL)
        schema = g_settings_schema_source_lookup (build, "org.wav2kp.Studio", FALSE);
    }
  if (schema == NULL)
    return g_settings_new ("org.wav2kp.Studio");   /* GIO's own error: schema not installed */
  return g_settings_new_full (schema, NULL, NULL);
}

static void
setup_settings (WkpStudioWindow *self)
{
  static const char *toggles[] = { "show-points", "show-contours", "show-indices", "mouth-only" };
  self->settings = studio_settings_new ();
  for (guint i = 0; i < G_N_ELEMENTS (toggles); i++)
    {
      g_autoptr(GAction) action = g_settings_create_action (self->settings, toggles[i]);
      g_action_map_add_action (G_ACTION_MAP (self), action);
      g_settings_bind (self->settings, toggles[i], self->frame_view, toggles[i], G_SETTINGS_BIND_GET);
    }
  {
    g_autoptr(GAction) action = g_settings_create_action (self->settings, "match-aperture-levels");
    g_action_map_add_action (G_ACTION_MAP (self), action);
    g_settings_bind (self->settings, "match-aperture-levels", self->aperture_plot, "match-levels",
                     G_SETTINGS_BIND_GET);
  }
  {
    g_autoptr(GAction) action = g_settings_create_action (self->settings, "spectrogram-kind");
    g_action_map_add_action (G_ACTION_MAP (self), action);
    g_signal_connect_object (self->settings, "changed::spectrogram-kind", G_CALLBACK (on_kind_changed), self, 0);
  }
  {
    g_autoptr(GAction) action = g_settings_create_action (self->settings, "colormap");
    g_action_map_add_action (G_ACTION_MAP (self), action);
    g_settings_bind_with_mapping (self->settings, "colormap", self->spectrogram_view, "colormap",
                                  G_SETTINGS_BIND_GET, colormap_get, colormap_set, NULL, NULL);
  }
}

/* --- object ---------------------------------------------------------------------- */

void
wkp_studio_window_cancel_tasks (WkpStudioWindow *self)
{
  g_return_if_fail (WKP_IS_STUDIO_WINDOW (self));
  cancel_job (self);
  if (self->task_cancellable != NULL)
    g_cancellable_cancel (self->task_cancellable);
}

/* Closing the window stops what runs for it: a running export holds the
 * window (and the application) until it has removed its temporary file, so
 * without this it went on unseen to the end after the window had gone */
static gboolean
on_close_request (GtkWindow *window, gpointer user_data)
{
  wkp_studio_window_cancel_tasks (WKP_STUDIO_WINDOW (window));
  return FALSE;
}

static void
wkp_studio_window_dispose (GObject *object)
{
  WkpStudioWindow *self = WKP_STUDIO_WINDOW (object);
  if (self->training_window != NULL)
    gtk_window_destroy (self->training_window);   /* clears the weak pointer */
  if (self->dataset_window != NULL)
    gtk_window_destroy (self->dataset_window);
  if (self->export_dialog != NULL)
    {
      /* (the weak pointer goes first: the dialog may be finalised after this window) */
      GtkWindow *dialog = self->export_dialog;
      g_object_remove_weak_pointer (G_OBJECT (dialog), (gpointer *) &self->export_dialog);
      self->export_dialog = NULL;
      gtk_window_destroy (dialog);
    }
  cancel_job (self);
  if (self->task_cancellable != NULL)
    g_cancellable_cancel (self->task_cancellable);
  g_clear_handle_id (&self->export_tick, g_source_remove);
  g_clear_handle_id (&self->late_timeout, g_source_remove);
  g_clear_pointer (&self->estimating, wkp_studio_clip_unref);
  if (self->tick_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
  self->tick_id = 0;
  if (self->player != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->player, self);
      wkp_player_close (self->player);
    }
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_clear_object (&self->player);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), WKP_TYPE_STUDIO_WINDOW);
  g_clear_object (&self->session);
  g_clear_pointer (&self->playback_error, g_free);
  g_clear_pointer (&self->models_before_clip[0], g_free);
  g_clear_pointer (&self->models_before_clip[1], g_free);
  G_OBJECT_CLASS (wkp_studio_window_parent_class)->dispose (object);
}

static void
wkp_studio_window_class_init (WkpStudioWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = wkp_studio_window_dispose;

  g_type_ensure (WKP_TYPE_FRAME_VIEW);
  g_type_ensure (WKP_TYPE_MOUTH_VIEW);
  g_type_ensure (WKP_TYPE_SPECTROGRAM_VIEW);
  g_type_ensure (WKP_TYPE_APERTURE_PLOT);
  g_type_ensure (WKP_TYPE_TIMELINE_BAR);
  g_type_ensure (WKP_TYPE_OVERVIEW_BAR);

  /* the resources live in a static library: referencing them keeps their
   * registering constructor in the link */
  g_resources_register (wkp_studio_get_resource ());
  gtk_widget_class_set_template_from_resource (widget_class, "/org/wav2kp/Studio/wkp-studio-window.ui");
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, top_paned);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, frame_view);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, mouth_view);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, spectrogram_view);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, aperture_plot);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, timeline_bar);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, overview_bar);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, frame_label);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, spectrogram_label);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, aperture_label);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, time_label);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, play_button);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, rate_dropdown);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, late_spin);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, estimate_button);
  gtk_widget_class_bind_template_child (widget_class, WkpStudioWindow, recent_section);
}

/* The video | mouth handle keeps a share of the width, not 760 px: at 1024
 * px the mouth view got 240 px, its legend overlapping and its title cut,
 * beside a letterboxed video (studio QA). A handle the user drags keeps
 * their share. */
#define TOP_SHARE_VIDEO 0.6
#define TOP_SHARE_AUDIO_ONLY 0.3   /* the video panel only says "Audio only" */

static void
apply_top_share (WkpStudioWindow *self)
{
  int max = 0;
  g_object_get (self->top_paned, "max-position", &max, NULL);
  self->top_max = max;
  if (max > 0)
    gtk_paned_set_position (self->top_paned, (int) lround (self->top_share * max));
}

static void
on_top_max_position (GObject *paned, GParamSpec *pspec, WkpStudioWindow *self)
{
  apply_top_share (self);
}

static void
on_top_position (GObject *paned, GParamSpec *pspec, WkpStudioWindow *self)
{
  int max = 0, min = 0, pos = gtk_paned_get_position (self->top_paned);
  g_object_get (self->top_paned, "max-position", &max, "min-position", &min, NULL);
  /* a move at an unchanged width is the handle's, not an allocation's; one
   * to a limit is GtkPaned clamping the share to a child's minimum */
  if (max > 0 && max == self->top_max && pos > min && pos < max
      && abs (pos - (int) lround (self->top_share * max)) > 1)
    {
      self->top_share = CLAMP ((double) pos / max, 0.0, 1.0);
      self->top_dragged = TRUE;
    }
}

/* The default share for @clip (video or sound alone), unless dragged. */
static void
set_top_share_for_clip (WkpStudioWindow *self, gboolean has_video)
{
  if (self->top_dragged)
    return;
  self->top_share = has_video ? TOP_SHARE_VIDEO : TOP_SHARE_AUDIO_ONLY;
  apply_top_share (self);
}

double
wkp_studio_window_get_video_share (WkpStudioWindow *self)
{
  int max = 0;
  g_return_val_if_fail (WKP_IS_STUDIO_WINDOW (self), 0);
  g_object_get (self->top_paned, "max-position", &max, NULL);
  return max > 0 ? (double) gtk_paned_get_position (self->top_paned) / max : 0;
}

static void
wkp_studio_window_init (WkpStudioWindow *self)
{
  GtkDropTarget *drop;
  GAction *loop;

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self, "close-request", G_CALLBACK (on_close_request), NULL);
  wkp_studio_fit_drop_down (self->rate_dropdown);
  self->top_share = TOP_SHARE_VIDEO;
  g_signal_connect (self->top_paned, "notify::max-position", G_CALLBACK (on_top_max_position), self);
  g_signal_connect (self->top_paned, "notify::position", G_CALLBACK (on_top_position), self);
  g_signal_connect (self->aperture_label, "query-tooltip", G_CALLBACK (on_query_wrapped_tooltip), NULL);
  g_signal_connect (self->spectrogram_label, "query-tooltip", G_CALLBACK (on_query_wrapped_tooltip), NULL);
  g_signal_connect (self->status_label, "query-tooltip", G_CALLBACK (on_query_wrapped_tooltip), NULL);
  g_signal_connect (self->late_spin, "value-changed", G_CALLBACK (on_late_changed), self);
  g_signal_connect (self->estimate_button, "clicked", G_CALLBACK (on_estimate_clicked), self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->late_spin), FALSE);
  self->pending_seek = -1;
  {
    /* the status row is as tall as it gets with Cancel shown, so that the
     * panels do not jump by its height whenever a job starts or ends */
    int nat = 0;
    gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), TRUE);   /* a hidden widget measures 0 */
    gtk_widget_measure (GTK_WIDGET (self->cancel_button), GTK_ORIENTATION_VERTICAL, -1, NULL, &nat, NULL, NULL);
    gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), FALSE);
    gtk_widget_set_size_request (gtk_widget_get_parent (GTK_WIDGET (self->cancel_button)), -1, nat);
  }
  {
    /* tabular figures: the time does not jitter while it counts */
    PangoAttrList *attrs = pango_attr_list_new ();
    pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum=1"));
    gtk_inscription_set_attributes (self->time_label, attrs);
    pango_attr_list_unref (attrs);
  }

  self->session = wkp_session_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_entries, G_N_ELEMENTS (win_entries), self);
  {
    GtkEventController *key = gtk_event_controller_key_new ();
    gtk_event_controller_set_propagation_phase (key, GTK_PHASE_CAPTURE);
    g_signal_connect (key, "key-pressed", G_CALLBACK (on_key_capture), self);
    gtk_widget_add_controller (GTK_WIDGET (self), key);
  }
  /* a simple action (a property action cannot be disabled) kept in step
   * with the session's loop property */
  loop = G_ACTION (g_simple_action_new_stateful ("loop", NULL,
                                                 g_variant_new_boolean (wkp_session_get_loop (self->session))));
  g_signal_connect (loop, "change-state", G_CALLBACK (on_loop_change_state), self);
  g_signal_connect_object (self->session, "notify::loop", G_CALLBACK (on_loop_changed), loop, 0);
  g_action_map_add_action (G_ACTION_MAP (self), loop);
  g_object_unref (loop);
  update_playback_actions (self);
  setup_settings (self);

  bind_time_view (self, WKP_TIME_VIEW (self->spectrogram_view));
  bind_time_view (self, WKP_TIME_VIEW (self->aperture_plot));
  bind_time_view (self, WKP_TIME_VIEW (self->timeline_bar));
  bind_overview (self);
  g_signal_connect (self->session, "notify::frame", G_CALLBACK (on_frame_changed), self);
  g_signal_connect (self->session, "notify::position", G_CALLBACK (on_position_changed), self);
  g_signal_connect (self->session, "notify::playing", G_CALLBACK (on_playing_changed), self);
  g_signal_connect (self->session, "notify::rate", G_CALLBACK (on_rate_changed), self);
  g_signal_connect (self->session, "clip-updated", G_CALLBACK (on_clip_updated), self);
  g_signal_connect (self->rate_dropdown, "notify::selected", G_CALLBACK (on_rate_selected), self);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  gtk_label_set_text (self->status_label, _("Open a video or audio file, or drop one here"));
  wkp_frame_view_set_placeholder (self->frame_view, _("No clip open"));
  /* the mouth view shows the canonical mouth region with a margin */
  {
    const float *mean = wkp_face_canonical ();
    double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE, mx, my;
    for (int i = WKP_MOUTH_FIRST; i < WKP_MOUTH_FIRST + WKP_MOUTH_COUNT; i++)
      {
        x0 = MIN (x0, mean[2 * i]);
        x1 = MAX (x1, mean[2 * i]);
        y0 = MIN (y0, mean[2 * i + 1]);
        y1 = MAX (y1, mean[2 * i + 1]);
      }
    mx = (x1 - x0) * 0.35;
    my = (y1 - y0) * 0.9;
    wkp_mouth_view_set_bounds (self->mouth_view, x0 - mx, y0 - my, x1 + mx, y1 + my);
  }
  fill_recent_menu (self);
  g_signal_connect_object (gtk_recent_manager_get_default (), "changed", G_CALLBACK (fill_recent_menu), self,
                           G_CONNECT_SWAPPED);
  self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick, NULL, NULL);
  g_signal_connect (self, "realize", G_CALLBACK (on_realize), NULL);
  update_time_label (self);
}

WkpStudioWindow *
wkp_studio_window_new (GtkApplication *app, gboolean silent)
{
  WkpStudioWindow *self = g_object_new (WKP_TYPE_STUDIO_WINDOW, "application", app, NULL);
  self->silent = silent;
  self->player = wkp_player_new (silent);
  g_signal_connect (self->player, "eos", G_CALLBACK (on_eos), self);
  g_signal_connect (self->player, "error", G_CALLBACK (on_player_error), self);
  return self;
}

void
wkp_studio_window_seek_when_ready (WkpStudioWindow *self, gint64 us)
{
  if (wkp_session_get_duration (self->session) > 0)
    wkp_studio_window_go_to_frame (self, wkp_session_frame_at (self->session, us));
  else
    self->pending_seek = us;
}

WkpSession *
wkp_studio_window_get_session (WkpStudioWindow *self)
{
  return self->session;
}

WkpPlayer *
wkp_studio_window_get_player (WkpStudioWindow *self)
{
  return self->player;
}

GtkWidget *
wkp_studio_window_get_view (WkpStudioWindow *self, const char *name)
{
  if (g_str_equal (name, "frame")) return GTK_WIDGET (self->frame_view);
  if (g_str_equal (name, "mouth")) return GTK_WIDGET (self->mouth_view);
  if (g_str_equal (name, "spectrogram")) return GTK_WIDGET (self->spectrogram_view);
  if (g_str_equal (name, "aperture")) return GTK_WIDGET (self->aperture_plot);
  if (g_str_equal (name, "timeline")) return GTK_WIDGET (self->timeline_bar);
  if (g_str_equal (name, "overview")) return GTK_WIDGET (self->overview_bar);
  if (g_str_equal (name, "status")) return GTK_WIDGET (self->status_label);
  if (g_str_equal (name, "time")) return GTK_WIDGET (self->time_label);
  if (g_str_equal (name, "spectrogram-title")) return GTK_WIDGET (self->spectrogram_label);
  if (g_str_equal (name, "aperture-title")) return GTK_WIDGET (self->aperture_label);
  if (g_str_equal (name, "late")) return GTK_WIDGET (self->late_spin);
  if (g_str_equal (name, "top-paned")) return GTK_WIDGET (self->top_paned);
  if (g_str_equal (name, "rate")) return GTK_WIDGET (self->rate_dropdown);
  if (g_str_equal (name, "estimate")) return GTK_WIDGET (self->estimate_button);
  if (g_str_equal (name, "export-dialog")) return GTK_WIDGET (self->export_dialog);
  return NULL;
}

gboolean
wkp_studio_window_is_busy (WkpStudioWindow *self)
{
  return (self->job != NULL && wkp_open_job_is_running (self->job)) || self->task_cancellable != NULL;
}
