#include "wkp-open-job.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wkp-face.h"
#include "wkp-landmarks.h"
#include "wkp-model.h"

typedef enum {
  STAGE_AUDIO,
  STAGE_FEATURES,
  STAGE_PREDICTION,
  STAGE_LANDMARKS,
  N_STAGES
} Stage;

struct _WkpOpenJob
{
  GObject         parent_instance;
  WkpSession     *session;
  WkpStudioClip  *clip;          /* the clip being filled (ref) */
  char           *kind_setting;
  GCancellable   *cancellable;
  GMainContext   *context;
  int             threads_running;
  gboolean        running;
  gboolean        sound_only;    /* features and predictions again, from clip->samples */
  int             audio_late;    /* frames the sound is moved earlier for them (clip->audio_late) */

  /* written by workers, read by the coalesced idle */
  gint            stage_done[N_STAGES];    /* atomic */
  gint            landmark_permille;       /* atomic */
  gint            progress_pending;        /* atomic */
};

G_DEFINE_FINAL_TYPE (WkpOpenJob, wkp_open_job, G_TYPE_OBJECT)

enum { SIGNAL_PROGRESS, SIGNAL_PART_FAILED, SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* --- results handed to the main context ----------------------------------- */

typedef struct
{
  WkpOpenJob  *job;
  WkpClipPart  part;
  char        *error;            /* when the part failed */
  gboolean     thread_done;      /* the worker finished with this delivery */
  /* MEDIA */
  gboolean     has_video;
  int          width, height;
  WkpRational  fps;
  gint64       n_frames;
  gint64       timing_error_us;
  gint64       n_pictures, n_shown;
  gboolean     resampled;
  int          audio_late;     /* the move the sound was analysed with */
  char        *audio_source;
  WkpAudio    *audio;
  /* FEATURES */
  GBytes      *spectrogram;
  gint64       n_steps;
  int          n_coeffs;
  WkpRational  steps_rate;
  /* LANDMARKS / PREDICTION */
  WkpLandmarkTrack *track;
  GBytes      *canon;
  GBytes      *aperture;
  gint64       n_found;
  char        *model_name;
  char       **trained_on;
  gboolean     model_logmel;
  gboolean     logmel;         /* the spectrogram's features */
} Delivery;

static void
delivery_free (gpointer data)
{
  Delivery *d = data;
  g_object_unref (d->job);
  g_free (d->error);
  g_free (d->audio_source);
  g_clear_pointer (&d->audio, wkp_audio_free);
  g_clear_pointer (&d->spectrogram, g_bytes_unref);
  g_clear_pointer (&d->track, wkp_landmark_track_free);
  g_clear_pointer (&d->canon, g_bytes_unref);
  g_clear_pointer (&d->aperture, g_bytes_unref);
  g_free (d->model_name);
  g_strfreev (d->trained_on);
  g_free (d);
}

static gboolean
deliver_main (gpointer data)
{
  Delivery *d = data;
  WkpOpenJob *self = d->job;
  WkpStudioClip *clip = self->clip;
  gboolean current = wkp_session_get_clip (self->session) == clip;

  if (d->error != NULL)
    {
      char *old = clip->errors;
      /* (a failure again after a move of the sound is listed once; an open
       * lists every part's, the status line counts them) */
      g_auto(GStrv) lines = old != NULL && self->sound_only ? g_strsplit (old, "\n", -1) : NULL;
      if (lines == NULL || !g_strv_contains ((const char *const *) lines, d->error))
        {
          clip->errors = old ? g_strconcat (old, "\n", d->error, NULL) : g_strdup (d->error);
          g_free (old);
        }
      if (current)
        g_signal_emit (self, signals[SIGNAL_PART_FAILED], 0, (guint) d->part, d->error);
    }
  else if (d->part != 0 && current)
    {
      switch (d->part)
        {
        case WKP_CLIP_PART_MEDIA:
          clip->has_video = d->has_video;
          clip->width = d->width;
          clip->height = d->height;
          clip->fps = d->fps;
          clip->n_frames = d->n_frames;
          clip->timing_error_us = d->timing_error_us;
          clip->n_pictures = d->n_pictures;
          clip->n_shown = d->n_shown;
          clip->resampled = d->resampled;
          clip->audio_late = d->audio_late;
          clip->duration_us = wkp_frame_to_us (d->n_frames, d->fps);
          clip->audio_source = g_steal_pointer (&d->audio_source);
          clip->samples = g_steal_pointer (&d->audio);
          break;
        case WKP_CLIP_PART_FEATURES:
          g_clear_pointer (&clip->spectrogram, g_bytes_unref);   /* (again, after a move of the sound) */
          clip->spectrogram = g_steal_pointer (&d->spectrogram);
          clip->n_steps = d->n_steps;
          clip->n_coeffs = d->n_coeffs;
          clip->steps_rate = d->steps_rate;
          clip->logmel = d->logmel;
          break;
        case WKP_CLIP_PART_LANDMARKS:
          clip->track = g_steal_pointer (&d->track);
          clip->extracted_canon = g_steal_pointer (&d->canon);
          clip->extracted_aperture = g_steal_pointer (&d->aperture);
          clip->n_found = d->n_found;
          break;
        case WKP_CLIP_PART_PREDICTION:
          g_clear_pointer (&clip->predicted_canon, g_bytes_unref);
          g_clear_pointer (&clip->predicted_aperture, g_bytes_unref);
          g_free (clip->model_name);
          clip->predicted_canon = g_steal_pointer (&d->canon);
          clip->predicted_aperture = g_steal_pointer (&d->aperture);
          clip->model_name = g_steal_pointer (&d->model_name);
          g_strfreev (clip->model_trained_on);
          clip->model_trained_on = g_steal_pointer (&d->trained_on);
          clip->model_logmel = d->model_logmel;
          break;
        case WKP_CLIP_PART_COMPARED:
          wkp_studio_clip_set_compared (clip, g_steal_pointer (&d->canon), g_steal_pointer (&d->aperture),
                                        g_steal_pointer (&d->model_name), g_steal_pointer (&d->trained_on));
          break;
        }
      clip->parts |= d->part;
      wkp_session_clip_updated (self->session, d->part);
    }

  if (d->thread_done)
    {
      self->threads_running--;
      if (self->threads_running == 0)
        {
          self->running = FALSE;
          g_signal_emit (self, signals[SIGNAL_FINISHED], 0, g_cancellable_is_cancelled (self->cancellable));
        }
    }
  return G_SOURCE_REMOVE;
}

/* Runs @fn in the thread that iterates the job's context. Always through
 * an attached source, never g_main_context_invoke(): when no thread owns the
 * context at that moment, invoke() acquires it and runs @fn right here in the
 * worker thread, touching GTK widgets off the main thread. */
static void
run_in_context (WkpOpenJob *self, int priority, GSourceFunc fn, gpointer data, GDestroyNotify destroy,
                const char *name)
{
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, priority);
  g_source_set_callback (source, fn, data, destroy);
  g_source_set_static_name (source, name);
  g_source_attach (source, self->context);
  g_source_unref (source);
}

static void
deliver (WkpOpenJob *self, Delivery *d)
{
  d->job = g_object_ref (self);
  run_in_context (self, G_PRIORITY_DEFAULT, deliver_main, d, delivery_free, "[wkp] open job delivery");
}

static void
deliver_error (WkpOpenJob *self, WkpClipPart part, GError *error)
{
  Delivery *d = g_new0 (Delivery, 1);
  d->part = part;
  d->error = g_strdup (error != NULL ? error->message : "failed");
  deliver (self, d);
}

static void
deliver_done (WkpOpenJob *self)
{
  Delivery *d = g_new0 (Delivery, 1);
  d->thread_done = TRUE;
  deliver (self, d);
}

/* --- progress, coalesced ---------------------------------------------------- */

static gboolean
progress_idle (gpointer data)
{
  WkpOpenJob *self = data;
  g_atomic_int_set (&self->progress_pending, 0);
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0);
  return G_SOURCE_REMOVE;
}

static void
queue_progress (WkpOpenJob *self)
{
  if (g_atomic_int_compare_and_exchange (&self->progress_pending, 0, 1))
    run_in_context (self, G_PRIORITY_LOW, progress_idle, g_object_ref (self), g_object_unref,
                    "[wkp] open job progress");
}

static void
stage_finished (WkpOpenJob *self, Stage stage)
{
  g_atomic_int_set (&self->stage_done[stage], 1);
  queue_progress (self);
}

static void
landmark_progress (gint64 done, gint64 total, const char *what, gpointer user_data)
{
  WkpOpenJob *self = user_data;
  if (total > 0)
    g_atomic_int_set (&self->landmark_permille, (int) (1000 * MIN (done, total) / total));
  queue_progress (self);
}

/* --- helpers ----------------------------------------------------------------- */

static GBytes *
aperture_of (const float *canon, gint64 n_frames)
{
  float *ap = g_new (float, MAX (n_frames, 1));
  for (gint64 f = 0; f < n_frames; f++)
    ap[f] = (float) wkp_face_inner_aperture (canon + f * WKP_N_LANDMARKS * 2);
  return g_bytes_new_take (ap, n_frames * sizeof (float));
}

/* Worker threads run at a lower priority (Linux nice is per thread) so that
 * the main loop and the playback threads keep their CPU on a busy machine. */
static void
lower_thread_priority (void)
{
#ifdef SYS_gettid
  setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 10);
#endif
}

WkpFeatureKind
wkp_studio_feature_kind (const char *setting, const WkpModel *model, const char *model_file)
{
  g_autoptr(WkpModel) loaded = NULL;
  if (g_strcmp0 (setting, "logmel") == 0)
    return WKP_FEATURE_LOGMEL;
  if (g_strcmp0 (setting, "model") != 0)
    return WKP_FEATURE_MFCC;
  if (model == NULL && model_file != NULL)
    model = loaded = wkp_model_load (model_file, NULL);   /* mapped, not read: cheap */
  return model != NULL ? model->features.kind : WKP_FEATURE_MFCC;
}

gboolean
wkp_spectrogram_data_compute (const WkpAudio *audio, WkpRational fps, gint64 n_frames, WkpFeatureKind kind,
                              WkpSpectrogramData *out, GError **error)
{
  WkpFeatureConfig config;
  g_autofree float *features = NULL;
  int coeffs, dim;
  gint64 n_steps;
  float *m;

  /* static coefficients of every sub-frame, no deltas */
  wkp_feature_config_init_default (&config);
  config.kind = kind;
  config.deltas = 0;
  features = wkp_features_compute (&config, audio->samples, audio->n_samples, fps, n_frames, error);
  if (features == NULL)
    return FALSE;
  coeffs = wkp_feature_config_coeffs (&config);
  dim = wkp_feature_config_dim (&config);
  n_steps = n_frames * config.subframes;
  m = g_new (float, MAX (n_steps * coeffs, 1));
  for (gint64 f = 0; f < n_frames; f++)
    for (int k = 0; k < config.subframes; k++)
      memcpy (m + (f * config.subframes + k) * coeffs, features + f * dim + k * coeffs, coeffs * sizeof (float));
  out->matrix = g_bytes_new_take (m, n_steps * coeffs * sizeof (float));
  out->n_steps = n_steps;
  out->n_coeffs = coeffs;
  out->rate = wkp_rational_reduce (WKP_RATIONAL (fps.num * config.subframes, fps.den));
  out->kind = kind;
  return TRUE;
}

gboolean
wkp_studio_predict (const char *model_file, const WkpAudio *audio, WkpRational fps, gint64 n_frames,
                    GCancellable *cancellable, WkpStudioPrediction *out, GError **error)
{
  g_autoptr(WkpModel) model = wkp_model_load (model_file, error);
  float *pred;

  if (model == NULL)
    return FALSE;
  if (model->features.sample_rate != WKP_AUDIO_RATE)
    {
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_UNSUPPORTED, "%s: model expects %d Hz audio", model_file,
                   model->features.sample_rate);
      return FALSE;
    }
  pred = wkp_model_predict_audio (model, audio->samples, audio->n_samples, fps, n_frames, 1, cancellable, error);
  if (pred == NULL)
    return FALSE;
  out->logmel = model->features.kind == WKP_FEATURE_LOGMEL;
  out->trained_on = wkp_model_speakers (model, "train");
  out->aperture = aperture_of (pred, n_frames);
  out->canon = g_bytes_new_take (pred, n_frames * WKP_N_LANDMARKS * 2 * sizeof (float));
  {
    g_autofree char *base = g_path_get_basename (model_file);
    out->name = wkp_model_n_members (model) > 1
                ? g_strdup_printf (_("%s (ensemble of %d networks)"), base, wkp_model_n_members (model))
                : g_steal_pointer (&base);
  }
  return TRUE;
}

void
wkp_studio_prediction_clear (WkpStudioPrediction *prediction)
{
  g_clear_pointer (&prediction->canon, g_bytes_unref);
  g_clear_pointer (&prediction->aperture, g_bytes_unref);
  g_clear_pointer (&prediction->name, g_free);
  g_clear_pointer (&prediction->trained_on, g_strfreev);
}

/* --- thread A: audio, features, prediction ---------------------------------- */

/* The clip's audio could not be read (a video without an audio stream, a
 * missing or broken --audio file). When the video itself is readable the
 * timeline still spans its frames, so the picture, the landmarks and the
 * extracted aperture can be inspected; the audio's error is reported on the
 * features and the prediction, which need it. Otherwise the error is the
 * clip's. */
static void
deliver_video_only (WkpOpenJob *self, GError *audio_error)
{
  WkpStudioClip *clip = self->clip;
  g_autoptr(WkpMediaInfo) info = NULL;
  Delivery *d;

  if (clip->video != NULL && !g_error_matches (audio_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    info = wkp_media_probe (clip->video, clip->fps_hint, WKP_PROBE_COUNT_FRAMES, NULL);
  if (info == NULL || !info->has_video || info->n_frames <= 0 || !wkp_rational_is_valid (info->fps))
    {
      deliver_error (self, WKP_CLIP_PART_MEDIA, audio_error);
      return;
    }
  d = g_new0 (Delivery, 1);
  d->part = WKP_CLIP_PART_MEDIA;
  d->has_video = TRUE;
  d->width = info->width;
  d->height = info->height;
  d->fps = info->fps;
  d->n_frames = info->n_frames;
  deliver (self, d);
  deliver_error (self, WKP_CLIP_PART_FEATURES, audio_error);
  if (clip->model_file != NULL)
    deliver_error (self, WKP_CLIP_PART_PREDICTION, audio_error);
  if (clip->compare_model_file != NULL)
    deliver_error (self, WKP_CLIP_PART_COMPARED, audio_error);
}

/* The features and the predictions of @audio (the clip's sound, moved by
 * audio_late frames) at @fps over @n_frames frames. */
static void
analyse_sound (WkpOpenJob *self, const WkpAudio *audio, WkpRational fps, gint64 n_frames, const WkpModel *model)
{
  WkpStudioClip *clip = self->clip;
  g_autoptr(GError) error = NULL;
  Delivery *d;

  if (wkp_check_cancelled (self->cancellable, &error))
    return;
  {
    WkpSpectrogramData sd = { 0 };
    WkpFeatureKind kind = wkp_studio_feature_kind (self->kind_setting, model, NULL);
    if (!wkp_spectrogram_data_compute (audio, fps, n_frames, kind, &sd, &error))
      deliver_error (self, WKP_CLIP_PART_FEATURES, error);
    else
      {
        d = g_new0 (Delivery, 1);
        d->part = WKP_CLIP_PART_FEATURES;
        d->spectrogram = sd.matrix;
        d->n_steps = sd.n_steps;
        d->n_coeffs = sd.n_coeffs;
        d->steps_rate = sd.rate;
        d->logmel = kind == WKP_FEATURE_LOGMEL;
        deliver (self, d);
      }
  }
  g_clear_error (&error);
  stage_finished (self, STAGE_FEATURES);

  /* the model, then the one to compare with */
  for (int k = 0; k < 2; k++)
    {
      const char *model_file = k == 0 ? clip->model_file : clip->compare_model_file;
      WkpClipPart part = k == 0 ? WKP_CLIP_PART_PREDICTION : WKP_CLIP_PART_COMPARED;
      WkpStudioPrediction sp = { 0 };
      if (model_file == NULL || wkp_check_cancelled (self->cancellable, &error))
        continue;
      if (!wkp_studio_predict (model_file, audio, fps, n_frames, self->cancellable, &sp, &error))
        {
          deliver_error (self, part, error);
          g_clear_error (&error);
          continue;
        }
      d = g_new0 (Delivery, 1);
      d->part = part;
      d->aperture = g_steal_pointer (&sp.aperture);
      d->canon = g_steal_pointer (&sp.canon);
      d->model_name = g_steal_pointer (&sp.name);
      d->trained_on = g_steal_pointer (&sp.trained_on);
      d->model_logmel = sp.logmel;
      deliver (self, d);
    }
  stage_finished (self, STAGE_PREDICTION);
}

static gpointer
audio_thread (gpointer data)
{
  WkpOpenJob *self = data;
  WkpStudioClip *clip = self->clip;
  WkpSourceSpec spec = { clip->video, clip->audio, clip->fps_hint };
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpClipAudio) ca = NULL;
  g_autoptr(WkpModel) model = NULL;
  Delivery *d;

  lower_thread_priority ();
  ca = wkp_clip_audio_load (&spec, WKP_AUDIO_RATE, self->cancellable, &error);
  /* the model's header: its frame rate and the features it reads */
  if (ca != NULL && clip->model_file != NULL)
    model = wkp_model_load (clip->model_file, NULL);   /* (its errors come with the prediction) */
  /* audio alone, no frame rate given: the model's own (a 29.97 fps model
   * was shown, and predicted, at 25 fps), as `wav2kp predict` does */
  if (ca != NULL && ca->video_info == NULL && !wkp_rational_is_valid (clip->fps_hint) && model != NULL)
    wkp_clip_audio_set_fps (ca, model->fps);
  if (ca == NULL)
    {
      deliver_video_only (self, error);
      goto out;
    }
  d = g_new0 (Delivery, 1);
  d->part = WKP_CLIP_PART_MEDIA;
  d->has_video = ca->video_info != NULL && ca->video_info->has_video;
  d->width = d->has_video ? ca->video_info->width : 0;
  d->height = d->has_video ? ca->video_info->height : 0;
  d->fps = ca->fps;
  d->n_frames = ca->n_frames;
  d->timing_error_us = d->has_video ? ca->video_info->timing_error_us : 0;
  d->n_pictures = d->has_video ? ca->video_info->n_decoded : 0;
  d->n_shown = d->has_video ? ca->video_info->n_shown : 0;
  d->resampled = d->has_video && ca->video_info->resampled;
  d->audio_source = g_strdup (ca->audio_source);
  /* MEDIA keeps the file's own sound ... */
  d->audio = wkp_audio_new (ca->audio->n_samples, ca->audio->rate);
  memcpy (d->audio->samples, ca->audio->samples, ca->audio->n_samples * sizeof (float));
  d->audio->channels = ca->audio->channels;
  d->audio->inverted_channels = ca->audio->inverted_channels;
  d->audio->reference_channel = ca->audio->reference_channel;
  /* ... the analyses read it moved as asked, if the clip can take the move
   * (`--audio-late`'s rule), else not at all */
  if (!wkp_clip_audio_fix_late (ca, self->audio_late, "", NULL))
    self->audio_late = 0;
  d->audio_late = self->audio_late;
  deliver (self, d);
  stage_finished (self, STAGE_AUDIO);

  analyse_sound (self, ca->audio, ca->fps, ca->n_frames, model);

out:
  deliver_done (self);
  g_object_unref (self);
  return NULL;
}

/* After the user moved the sound: the decoded sound of the clip again, moved
 * by audio_late frames, without decoding the file or extracting landmarks. */
static gpointer
sound_thread (gpointer data)
{
  WkpOpenJob *self = data;
  WkpStudioClip *clip = self->clip;
  g_autoptr(WkpModel) model = NULL;
  /* (the move this job was made for, not whatever the clip says meanwhile) */
  g_autoptr(WkpAudio) audio = wkp_studio_clip_sound_moved (clip, self->audio_late);

  lower_thread_priority ();
  if (clip->model_file != NULL)
    model = wkp_model_load (clip->model_file, NULL);
  analyse_sound (self, audio, clip->fps, clip->n_frames, model);
  deliver_done (self);
  g_object_unref (self);
  return NULL;
}

/* --- thread B: landmarks ---------------------------------------------------- */

static gpointer
landmark_thread (gpointer data)
{
  WkpOpenJob *self = data;
  WkpStudioClip *clip = self->clip;
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpLandmarkTrack) track = NULL;
  float *canon;
  gint64 n_found = 0;
  Delivery *d;

  lower_thread_priority ();
  if (clip->landmarks_file != NULL)
    {
      /* the video's frames: the file must be this clip's, in its pixels */
      g_autoptr(WkpMediaInfo) info = clip->video != NULL
                                     ? wkp_media_probe (clip->video, clip->fps_hint, WKP_PROBE_COUNT_FRAMES, NULL)
                                     : NULL;
      WkpRational fps = clip->fps_hint;
      if (!wkp_rational_is_valid (fps) && info != NULL && wkp_rational_is_valid (info->fps))
        fps = info->fps;
      if (!wkp_rational_is_valid (fps))
        fps = WKP_DEFAULT_FPS;
      track = wkp_landmark_track_load (clip->landmarks_file, fps, &error);
      if (track != NULL && info != NULL && info->has_video
          && !wkp_landmark_track_check_fits (track, clip->landmarks_file, info->n_frames, info->width,
                                             info->height, &error))
        g_clear_pointer (&track, wkp_landmark_track_free);
    }
  else if (clip->video != NULL)
    {
      /* the defaults of `wav2kp landmarks` and `prepare`, unsmoothed: the
       * track shown is the one a dataset would hold, and the agreement
       * numbers are those `evaluate` reports (smoothing raised r by ~0.02) */
      WkpLandmarkParams params;
      wkp_landmark_params_init_default (&params);
      params.n_threads = 1;
      track = wkp_landmarks_extract (clip->video, clip->fps_hint, &params, landmark_progress, self,
                                     self->cancellable, &error);
    }
  else
    goto out;   /* audio only: nothing to extract */

  if (track == NULL)
    {
      deliver_error (self, WKP_CLIP_PART_LANDMARKS, error);
      goto out;
    }

  canon = g_new (float, MAX (track->n_frames, 1) * WKP_N_LANDMARKS * 2);
  for (gint64 f = 0; f < track->n_frames; f++)
    {
      float *out = canon + f * WKP_N_LANDMARKS * 2;
      if (!wkp_face_normalize (track->points + f * WKP_N_LANDMARKS * 2, out, NULL, NULL))
        {
          for (int i = 0; i < WKP_N_LANDMARKS * 2; i++)
            out[i] = NAN;
        }
      else
        n_found++;
    }
  d = g_new0 (Delivery, 1);
  d->part = WKP_CLIP_PART_LANDMARKS;
  d->aperture = aperture_of (canon, track->n_frames);
  d->canon = g_bytes_new_take (canon, track->n_frames * WKP_N_LANDMARKS * 2 * sizeof (float));
  d->n_found = n_found;
  d->track = g_steal_pointer (&track);
  deliver (self, d);

out:
  stage_finished (self, STAGE_LANDMARKS);
  deliver_done (self);
  g_object_unref (self);
  return NULL;
}

/* --- object -------------------------------------------------------------------- */

static void
wkp_open_job_finalize (GObject *object)
{
  WkpOpenJob *self = WKP_OPEN_JOB (object);
  g_clear_object (&self->session);
  g_clear_pointer (&self->clip, wkp_studio_clip_unref);
  g_free (self->kind_setting);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (wkp_open_job_parent_class)->finalize (object);
}

static void
wkp_open_job_class_init (WkpOpenJobClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = wkp_open_job_finalize;
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_PART_FAILED] = g_signal_new ("part-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                              0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING);
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void
wkp_open_job_init (WkpOpenJob *self)
{
  self->cancellable = g_cancellable_new ();
}

WkpOpenJob *
wkp_open_job_new (WkpSession *session, const char *kind)
{
  WkpOpenJob *self = g_object_new (WKP_TYPE_OPEN_JOB, NULL);
  self->session = g_object_ref (session);
  self->clip = wkp_studio_clip_ref (wkp_session_get_clip (session));
  self->kind_setting = g_strdup (kind);
  self->audio_late = self->clip != NULL ? self->clip->audio_late : 0;
  return self;
}

WkpOpenJob *
wkp_open_job_new_for_sound (WkpSession *session, const char *kind)
{
  WkpOpenJob *self = wkp_open_job_new (session, kind);
  g_return_val_if_fail (self->clip != NULL && self->clip->samples != NULL, self);
  self->sound_only = TRUE;
  /* decoded and located already */
  self->stage_done[STAGE_AUDIO] = 1;
  self->stage_done[STAGE_LANDMARKS] = 1;
  return self;
}

void
wkp_open_job_start (WkpOpenJob *self)
{
  g_return_if_fail (!self->running);
  self->context = g_main_context_ref_thread_default ();
  self->running = TRUE;
  if (self->sound_only)
    {
      self->threads_running = 1;
      g_thread_unref (g_thread_new ("wkp-sound-job", sound_thread, g_object_ref (self)));
      return;
    }
  self->threads_running = 2;
  g_thread_unref (g_thread_new ("wkp-audio-job", audio_thread, g_object_ref (self)));
  g_thread_unref (g_thread_new ("wkp-landmark-job", landmark_thread, g_object_ref (self)));
}

void
wkp_open_job_cancel (WkpOpenJob *self)
{
  g_cancellable_cancel (self->cancellable);
}

gboolean
wkp_open_job_is_running (WkpOpenJob *self)
{
  return self->running;
}

double
wkp_open_job_get_fraction (WkpOpenJob *self)
{
  double done = 0;
  for (int s = 0; s < N_STAGES; s++)
    if (g_atomic_int_get (&self->stage_done[s]))
      done += s == STAGE_LANDMARKS ? 4 : 1;
  if (!g_atomic_int_get (&self->stage_done[STAGE_LANDMARKS]))
    done += 4 * g_atomic_int_get (&self->landmark_permille) / 1000.0;
  return done / 7.0;
}

const char *
wkp_open_job_get_status (WkpOpenJob *self)
{
  const char *text;
  if (!self->running)
    text = _("Ready");
  else if (!g_atomic_int_get (&self->stage_done[STAGE_AUDIO]))
    text = _("Decoding audio…");
  else if (!g_atomic_int_get (&self->stage_done[STAGE_FEATURES]))
    text = _("Computing features…");
  else if (!g_atomic_int_get (&self->stage_done[STAGE_LANDMARKS]))
    text = _("Extracting landmarks…");
  else
    text = _("Predicting…");
  return text;
}
