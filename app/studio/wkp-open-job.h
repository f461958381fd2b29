/* wkp-open-job.h: the engine jobs run when a clip is opened.
 *
 * Two worker threads: (A) audio -> features -> prediction with the model,
 * (B) landmark extraction or loading a given landmark file. Each result is
 * handed back whole (immutable) to the main context, where it is stored in
 * the session's clip and announced with wkp_session_clip_updated(). Progress
 * is coalesced into one pending idle. Cancel stops both threads at their next
 * check. */
#pragma once

#include <gio/gio.h>

#include "wkp-features.h"
#include "wkp-media.h"
#include "wkp-model.h"
#include "wkp-session.h"

G_BEGIN_DECLS

#define WKP_TYPE_OPEN_JOB (wkp_open_job_get_type ())
G_DECLARE_FINAL_TYPE (WkpOpenJob, wkp_open_job, WKP, OPEN_JOB, GObject)

/* Jobs fill @session's current clip (the one set when the job starts). */
/* @spectrogram_kind: the preference, "mfcc", "logmel", or "model" (what the
 * clip's model reads) */
WkpOpenJob *wkp_open_job_new          (WkpSession *session, const char *spectrogram_kind);
/* The features and predictions of the session's open clip again, from its
 * decoded sound (clip->samples) moved clip->audio_late frames earlier: after
 * the user moved the sound. One thread; the landmarks are kept. */
WkpOpenJob *wkp_open_job_new_for_sound (WkpSession *session, const char *spectrogram_kind);
void        wkp_open_job_start        (WkpOpenJob *self);
void        wkp_open_job_cancel       (WkpOpenJob *self);
gboolean    wkp_open_job_is_running   (WkpOpenJob *self);
/* 0..1 over all stages. */
double      wkp_open_job_get_fraction (WkpOpenJob *self);
/* A translated description of what runs now. */
const char *wkp_open_job_get_status   (WkpOpenJob *self);

/* The features the spectrogram shows for the preference @setting ("mfcc",
 * "logmel", or "model": those @model, or failing it @model_file, reads;
 * MFCC when there is no model). Runs on any thread. */
WkpFeatureKind wkp_studio_feature_kind (const char *setting, const WkpModel *model, const char *model_file);

/* The spectrogram view model of a clip's audio: [n_steps, n_coeffs] static
 * coefficients, one row per analysis sub-frame. Runs on any thread. */
typedef struct {
  GBytes        *matrix;
  gint64         n_steps;
  int            n_coeffs;
  WkpRational    rate;
  WkpFeatureKind kind;
} WkpSpectrogramData;

gboolean    wkp_spectrogram_data_compute (const WkpAudio *audio, WkpRational fps, gint64 n_frames,
                                          WkpFeatureKind kind, WkpSpectrogramData *out, GError **error);

/* A model's prediction for a clip's audio: canonical points [n_frames, 68, 2],
 * their inner-lip apertures [n_frames] and a display name. Runs on any
 * thread. */
typedef struct {
  GBytes *canon;
  GBytes *aperture;
  char   *name;
  gboolean logmel;   /* the model reads log-mel (else MFCC) */
  char  **trained_on; /* the model's training speakers, NULL when not recorded */
} WkpStudioPrediction;

gboolean    wkp_studio_predict           (const char *model_file, const WkpAudio *audio, WkpRational fps,
                                          gint64 n_frames, GCancellable *cancellable, WkpStudioPrediction *out,
                                          GError **error);
void        wkp_studio_prediction_clear  (WkpStudioPrediction *prediction);

/* Signals: "progress" (), "part-failed" (guint part, const char *message),
 * "finished" (gboolean cancelled). */

G_END_DECLS
