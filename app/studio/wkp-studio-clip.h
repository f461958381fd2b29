/* wkp-studio-clip.h: what the studio knows about the open clip. Each part is
 * filled once, on the main thread, from a whole immutable job result; parts
 * arrive in any order. */
#pragma once

#include <glib.h>

#include "wkp-dataset.h"
#include "wkp-landmarks.h"
#include "wkp-media.h"
#include "wkp-time.h"

G_BEGIN_DECLS

typedef enum {
  WKP_CLIP_PART_MEDIA = 1 << 0,        /* source info, fps, duration */
  WKP_CLIP_PART_FEATURES = 1 << 1,     /* spectrogram matrix */
  WKP_CLIP_PART_LANDMARKS = 1 << 2,    /* extracted landmarks (pixels + canonical) */
  WKP_CLIP_PART_PREDICTION = 1 << 3,   /* predicted canonical landmarks */
  WKP_CLIP_PART_COMPARED = 1 << 4,     /* a second model's prediction, to compare */
} WkpClipPart;

typedef struct {
  /* what was asked for */
  char        *video;          /* video file or image pattern, NULL for audio-only */
  char        *audio;          /* separate audio file, or NULL */
  char        *landmarks_file; /* given landmark file, or NULL to extract */
  char        *model_file;     /* model to predict with, or NULL (no model) */
  char        *compare_model_file; /* a second model to compare with, or NULL */
  WkpRational  fps_hint;       /* image sequences / audio-only */
  char        *speaker;        /* known when opened from a dataset, else NULL */

  /* MEDIA */
  gboolean     has_video;
  int          width;
  int          height;
  WkpRational  fps;
  gint64       n_frames;
  gint64       duration_us;
  gint64       timing_error_us; /* how far the video's frame timestamps lie from k/fps (WkpMediaInfo) */
  gint64       n_pictures;      /* the pictures in the file (n_frames counts the grid when they
                                 * were resampled to it: WkpMediaInfo) */
  gint64       n_shown;         /* resampled: the pictures some frame shows */
  gboolean     resampled;       /* irregular timing read on the grid (else, irregular: its
                                 * timestamps jump, read one picture per frame) */
  char        *audio_source;
  WkpAudio    *samples;        /* the clip's audio (16 kHz mono), for recomputing features */
  int          audio_late;     /* the features, predictions and playback read the sound this many
                                * frames earlier ("Sound late by"; samples keep the file's own) */
  int          audio_late_asked; /* the move the clip was opened with (audio_late is 0 when the clip
                                  * cannot take it: no pictures, or not shorter than the clip) */

  /* FEATURES: [n_steps, n_coeffs] at steps_rate steps per second */
  GBytes      *spectrogram;
  gint64       n_steps;
  int          n_coeffs;
  WkpRational  steps_rate;
  gboolean     logmel;

  /* LANDMARKS */
  WkpLandmarkTrack *track;     /* pixels */
  GBytes      *extracted_canon; /* float [n_frames, 68, 2] canonical, NaN when missing */
  GBytes      *extracted_aperture; /* float [n_frames] */
  gint64       n_found;

  /* PREDICTION */
  GBytes      *predicted_canon; /* float [n_frames, 68, 2] */
  GBytes      *predicted_aperture;
  char        *model_name;
  gboolean     model_logmel;    /* the model's input: log-mel, else MFCC */
  char       **model_trained_on; /* the model's training speakers (NULL: not recorded) */

  /* COMPARED: the same from compare_model_file */
  GBytes      *compared_canon;
  GBytes      *compared_aperture;
  char        *compared_name;
  char       **compared_trained_on;

  /* the offset `prepare` and `check` would estimate, from the file's own
   * sound and the landmarks (once both are here) */
  gboolean     has_offset_estimate;
  WkpAvOffset  offset_estimate;
  char        *offset_error;    /* why there is none (a clip too short), or NULL */

  WkpClipPart  parts;          /* which parts have arrived */
  char        *errors;         /* messages of parts that failed, one per line */
} WkpStudioClip;

WkpStudioClip *wkp_studio_clip_new   (const char *video, const char *audio, const char *landmarks_file,
                                      const char *model_file, WkpRational fps_hint);
/* Whether @trained_on (a model's training speakers) holds the clip's speaker:
 * its agreement numbers are then not those of a new voice. */
gboolean       wkp_studio_clip_speaker_seen (const WkpStudioClip *clip, char **trained_on);
WkpStudioClip *wkp_studio_clip_ref   (WkpStudioClip *clip);
void           wkp_studio_clip_unref (WkpStudioClip *clip);
/* Display name: basename of the video, or of the audio; for an image
 * sequence its folder with up to two folders above ("fadg0/video/sa1"). */
char          *wkp_studio_clip_title (const WkpStudioClip *clip);
/* How well @canon (a prediction of the clip, canonical frame) follows the
 * extracted mouth over the whole clip, as `wav2kp evaluate` computes it per
 * clip: "r 0.31 (lag +3: 0.56), LMD 0.062", the lag marked ≥/≤ at the edge of
 * the range searched; "" when there is nothing to compare. */
char          *wkp_studio_clip_agreement (const WkpStudioClip *clip, GBytes *canon);
/* Pointer to 68 canonical points of @frame, or NULL. */
const float   *wkp_studio_clip_extracted_at (const WkpStudioClip *clip, gint64 frame);
const float   *wkp_studio_clip_predicted_at (const WkpStudioClip *clip, gint64 frame);
const float   *wkp_studio_clip_compared_at  (const WkpStudioClip *clip, gint64 frame);
/* The sound the features and predictions read: a copy of the samples moved
 * audio_late frames earlier (NULL without samples). Any thread, while the
 * clip's samples and audio_late do not change (no job runs). */
WkpAudio      *wkp_studio_clip_sound        (const WkpStudioClip *clip);
/* The same moved @audio_late frames instead. */
WkpAudio      *wkp_studio_clip_sound_moved  (const WkpStudioClip *clip, int audio_late);
/* Replaces the COMPARED part (takes the three; NULLs clear it). Main thread. */
void           wkp_studio_clip_set_compared (WkpStudioClip *clip, GBytes *canon, GBytes *aperture, char *name,
                                             char **trained_on);
const float   *wkp_studio_clip_pixels_at    (const WkpStudioClip *clip, gint64 frame);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WkpStudioClip, wkp_studio_clip_unref)

G_END_DECLS
