#include "wkp-studio-clip.h"

#include <glib/gi18n.h>
#include <math.h>

#include "wkp-metrics.h"

WkpStudioClip *
wkp_studio_clip_new (const char *video, const char *audio, const char *landmarks_file,
                     const char *model_file, WkpRational fps_hint)
{
  WkpStudioClip *clip = g_rc_box_new0 (WkpStudioClip);
  clip->video = g_strdup (video);
  clip->audio = g_strdup (audio);
  clip->landmarks_file = g_strdup (landmarks_file);
  clip->model_file = g_strdup (model_file);
  clip->fps_hint = fps_hint;
  clip->fps = wkp_rational_is_valid (fps_hint) ? fps_hint : WKP_DEFAULT_FPS;
  return clip;
}

WkpStudioClip *
wkp_studio_clip_ref (WkpStudioClip *clip)
{
  return g_rc_box_acquire (clip);
}

static void
clip_clear (gpointer data)
{
  WkpStudioClip *clip = data;
  g_free (clip->video);
  g_free (clip->audio);
  g_free (clip->landmarks_file);
  g_free (clip->model_file);
  g_free (clip->compare_model_file);
  g_clear_pointer (&clip->compared_canon, g_bytes_unref);
  g_clear_pointer (&clip->compared_aperture, g_bytes_unref);
  g_free (clip->compared_name);
  g_free (clip->audio_source);
  g_clear_pointer (&clip->samples, wkp_audio_free);
  g_free (clip->offset_error);
  g_clear_pointer (&clip->spectrogram, g_bytes_unref);
  g_clear_pointer (&clip->track, wkp_landmark_track_free);
  g_clear_pointer (&clip->extracted_canon, g_bytes_unref);
  g_clear_pointer (&clip->extracted_aperture, g_bytes_unref);
  g_clear_pointer (&clip->predicted_canon, g_bytes_unref);
  g_clear_pointer (&clip->predicted_aperture, g_bytes_unref);
  g_free (clip->model_name);
  g_strfreev (clip->model_trained_on);
  g_strfreev (clip->compared_trained_on);
  g_free (clip->speaker);
  g_free (clip->errors);
}

void
wkp_studio_clip_unref (WkpStudioClip *clip)
{
  g_rc_box_release_full (clip, clip_clear);
}

char *
wkp_studio_clip_title (const WkpStudioClip *clip)
{
  return wkp_media_display_name (clip->video, clip->audio);
}

static const float *
points_at (GBytes *bytes, gint64 frame)
{
  gsize size;
  const float *data;
  if (bytes == NULL || frame < 0)
    return NULL;
  data = g_bytes_get_data (bytes, &size);
  if ((gsize) (frame + 1) * 68 * 2 * sizeof (float) > size)
    return NULL;
  data += frame * 68 * 2;
  /* a frame without a face is all NaN: report it as absent */
  if (isnan (data[2 * 48]) && isnan (data[2 * 60]))
    return NULL;
  return data;
}

const float *
wkp_studio_clip_extracted_at (const WkpStudioClip *clip, gint64 frame)
{
  return points_at (clip->extracted_canon, frame);
}

const float *
wkp_studio_clip_predicted_at (const WkpStudioClip *clip, gint64 frame)
{
  return points_at (clip->predicted_canon, frame);
}

const float *
wkp_studio_clip_compared_at (const WkpStudioClip *clip, gint64 frame)
{
  return points_at (clip->compared_canon, frame);
}

gboolean
wkp_studio_clip_speaker_seen (const WkpStudioClip *clip, char **trained_on)
{
  return clip->speaker != NULL && trained_on != NULL && g_strv_contains ((const char * const *) trained_on,
                                                                          clip->speaker);
}

void
wkp_studio_clip_set_compared (WkpStudioClip *clip, GBytes *canon, GBytes *aperture, char *name, char **trained_on)
{
  g_clear_pointer (&clip->compared_canon, g_bytes_unref);
  g_clear_pointer (&clip->compared_aperture, g_bytes_unref);
  g_free (clip->compared_name);
  g_strfreev (clip->compared_trained_on);
  clip->compared_canon = canon;
  clip->compared_aperture = aperture;
  clip->compared_name = name;
  clip->compared_trained_on = trained_on;
  if (canon != NULL)
    clip->parts |= WKP_CLIP_PART_COMPARED;
  else
    clip->parts &= ~WKP_CLIP_PART_COMPARED;
}

const float *
wkp_studio_clip_pixels_at (const WkpStudioClip *clip, gint64 frame)
{
  const float *p;
  if (clip->track == NULL || frame < 0 || frame >= clip->track->n_frames)
    return NULL;
  if (clip->track->status != NULL && clip->track->status[frame] == WKP_FACE_MISSING)
    return NULL;
  p = clip->track->points + frame * 68 * 2;
  return isnan (p[0]) && isnan (p[2 * 48]) ? NULL : p;
}

/* How well a prediction follows the extracted mouth over the whole clip:
 * the evaluation's own numbers (wkp_metrics_compare_tracks, as `wav2kp
 * evaluate` computes them per clip). "" when there is nothing to compare. */
char *
wkp_studio_clip_agreement (const WkpStudioClip *clip, GBytes *canon)
{
  WkpMetrics m;
  if (canon == NULL || clip->track == NULL || clip->track->n_frames != clip->n_frames)
    return g_strdup ("");
  wkp_metrics_compare_tracks (clip->track->points, g_bytes_get_data (canon, NULL), clip->n_frames,
                              WKP_METRICS_MAX_LAG, &m);
  if (!isfinite (m.aperture_r))
    return g_strdup ("");
  if (ABS (m.best_lag) == WKP_METRICS_MAX_LAG)
    /* TRANSLATORS: as below, the best lag at the edge of the range searched
     * (the audio/video offset may be larger) */
    return g_strdup_printf (m.best_lag > 0 ? _("r %.2f (lag ≥%+d: %.2f), LMD %.3f, motion %.2f×")
                                           : _("r %.2f (lag ≤%+d: %.2f), LMD %.3f, motion %.2f×"),
                            m.aperture_r, m.best_lag, m.best_lag_r, m.lmd_mouth, m.aperture_motion);
  /* TRANSLATORS: aperture correlation at lag 0, the best lag in frames and its
   * correlation, the mouth landmark distance (inter-ocular units), and the
   * predicted aperture's standard deviation over the extracted one's */
  return g_strdup_printf (_("r %.2f (lag %+d: %.2f), LMD %.3f, motion %.2f×"), m.aperture_r, m.best_lag,
                          m.best_lag_r, m.lmd_mouth, m.aperture_motion);
}

WkpAudio *
wkp_studio_clip_sound_moved (const WkpStudioClip *clip, int audio_late)
{
  WkpAudio *audio;
  if (clip->samples == NULL)
    return NULL;
  audio = wkp_audio_new (clip->samples->n_samples, clip->samples->rate);
  memcpy (audio->samples, clip->samples->samples, clip->samples->n_samples * sizeof (float));
  wkp_audio_shift_frames (audio, audio_late, clip->fps);
  return audio;
}

WkpAudio *
wkp_studio_clip_sound (const WkpStudioClip *clip)
{
  return wkp_studio_clip_sound_moved (clip, clip->audio_late);
}
