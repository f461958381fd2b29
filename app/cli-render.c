/* wav2kp render FILE [--audio A] [--keypoints P.npy | --model M [--compare M2]]
 *                    [--landmarks L | --no-landmarks] -o OUT.mp4
 *
 * A presentation clip: the video with its extracted landmarks, the predicted
 * mouth (and a second model's, dotted) beside the extracted one in the
 * canonical face frame, and the inner-lip aperture over time, with the audio.
 * Without --landmarks the video's landmarks are extracted here, as the studio
 * does (unsmoothed, `wav2kp landmarks`' defaults). */
#include "wkp-cli.h"
#include "wkp-dataset.h"
#include "wkp-export.h"
#include "wkp-face.h"
#include "wkp-io.h"
#include "wkp-landmarks.h"
#include "wkp-media.h"
#include "wkp-model.h"
#include "wkp-npy.h"
#include "wkp-plot.h"

#include <stdio.h>
#include <math.h>
#include <string.h>

/* @model_path, or the default model when NULL */
static WkpModel *
load_model (const char *model_path, GError **error)
{
  g_autofree char *path = model_path ? g_strdup (model_path) : wkp_cli_default_model (error);
  return path != NULL ? wkp_model_load (path, error) : NULL;
}

static float *
predict (const WkpModel *model, const WkpClipAudio *clip, int threads, GError **error)
{
  return wkp_model_predict_audio (model, clip->audio->samples, clip->audio->n_samples, clip->fps, clip->n_frames,
                                  threads, NULL, error);
}

/* a string member of the JSON sidecar beside @npy, or NULL */
static char *
sidecar_string (const char *npy, const char *key)
{
  g_autofree char *json = wkp_path_replace_ext (npy, ".json");
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_test (json, G_FILE_TEST_IS_REGULAR) || (root = wkp_json_load_file (json, &error)) == NULL
      || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return g_strdup (wkp_json_get_string (json_node_get_object (root), key));
}

/* How the sound was moved for keypoints @npy (predict --audio-late, in their
 * sidecar): 0 without a sidecar or without the member; an unreadable sidecar
 * or a member that is not a whole number of frames is an error. @how says
 * where the value came from. */
static gboolean
keypoints_late (const char *npy, int *late, const char **how, GError **error)
{
  g_autofree char *json = wkp_path_replace_ext (npy, ".json");
  g_autoptr(JsonNode) root = NULL;
  JsonNode *member;
  double v;

  *late = 0;
  *how = "they have no sidecar";
  if (!g_file_test (json, G_FILE_TEST_IS_REGULAR))
    return TRUE;
  if ((root = wkp_json_load_file (json, error)) == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "%s: not a sidecar (its top level is not a JSON object)",
                   json);
      return FALSE;
    }
  member = json_object_get_member (json_node_get_object (root), "audio_late_frames");
  *how = "their sidecar records no move";
  if (member == NULL)
    return TRUE;
  *how = "their sidecar's audio_late_frames";
  /* (3 or 3.0: Python's json writes the second) */
  v = JSON_NODE_HOLDS_VALUE (member) && (json_node_get_value_type (member) == G_TYPE_INT64
                                         || json_node_get_value_type (member) == G_TYPE_DOUBLE)
        ? json_node_get_double (member) : NAN;
  if (!isfinite (v) || v != floor (v) || fabs (v) > 1e6)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "%s: audio_late_frames is not a whole number of frames",
                   json);
      return FALSE;
    }
  *late = (int) v;
  return TRUE;
}

/* "moved 4 frames earlier", "moved 1 frame later", "as it is" */
static char *
describe_move (int late)
{
  if (late == 0)
    return g_strdup ("as it is");
  return g_strdup_printf ("moved %d frame%s %s", ABS (late), ABS (late) == 1 ? "" : "s", late > 0 ? "earlier" : "later");
}

#define UNSET_SECONDS (-1e300)

int
wkp_cli_render (int argc, char **argv)
{
  g_autofree char *audio = NULL, *fps_text = NULL, *output = NULL, *keypoints = NULL, *compare_path = NULL;
  g_autofree char *landmarks = NULL, *title = NULL, *pred_label = NULL, *comp_label = NULL;
  g_autofree char *audio_late_text = NULL;
  g_auto(GStrv) model_paths = NULL;
  gboolean no_video = FALSE, no_predict = FALSE, no_landmarks = FALSE;
  int height = 480, threads = 1, audio_late = 0;
  double start_s = UNSET_SECONDS, end_s = UNSET_SECONDS;
  gint64 first = 0, end = 0;
  g_auto(GStrv) files = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Output MP4", "OUT.mp4" },
    { "audio", 'a', 0, G_OPTION_ARG_FILENAME, &audio, "Separate audio for a silent video or image sequence", "AUDIO" },
    { "fps", 0, 0, G_OPTION_ARG_STRING, &fps_text, "Frame rate for audio-only input (default: the keypoints' or the model's) and image sequences (25)", "NUM/DEN" },
    { "keypoints", 'k', 0, G_OPTION_ARG_FILENAME, &keypoints, "Predicted keypoints [T,68,2] (from wav2kp predict)", "PRED.npy" },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &model_paths, "Predict with this model (default: the shipped one)", "MODEL" },
    { "compare", 'c', 0, G_OPTION_ARG_FILENAME, &compare_path, "A second model's prediction beside it (dotted)", "MODEL" },
    { "no-predict", 0, 0, G_OPTION_ARG_NONE, &no_predict, "Draw no prediction", NULL },
    { "landmarks", 'l', 0, G_OPTION_ARG_FILENAME, &landmarks, "Landmarks of the video (wav2kp landmarks); default: extracted here", "FILE" },
    { "no-landmarks", 0, 0, G_OPTION_ARG_NONE, &no_landmarks, "Neither extract nor draw the video's landmarks", NULL },
    { "no-video", 0, 0, G_OPTION_ARG_NONE, &no_video, "Leave the video panel out", NULL },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Caption", "TEXT" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "Height of the face panels in pixels (480)", "PX" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "OpenBLAS threads for prediction (1)", "N" },
    { "start", 0, 0, G_OPTION_ARG_DOUBLE, &start_s, "Render from this time of the clip, in seconds (default 0)", "S" },
    { "end", 0, 0, G_OPTION_ARG_DOUBLE, &end_s, "Render up to this time, in seconds (default: the clip's end)", "S" },
    { "audio-late", 0, 0, G_OPTION_ARG_STRING, &audio_late_text, WKP_CLI_AUDIO_LATE_HELP, "FRAMES" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-o OUT.mp4 — render a presentation clip");
  g_autoptr(WkpClipAudio) clip = NULL;
  g_autoptr(WkpAudio) listening = NULL;
  g_autoptr(WkpNpy) pred_npy = NULL;
  g_autoptr(WkpLandmarkTrack) track = NULL;
  g_autoptr(WkpModel) model = NULL, compare_model = NULL;
  g_autofree float *pred = NULL, *compared = NULL;
  g_autoptr(WkpCliProgress) progress = NULL;
  const char *model_path = NULL;
  WkpSourceSpec spec = { 0 };
  WkpExportParams params;
  GError *error = NULL;
  gboolean rendered;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!wkp_cli_parse (ctx, "render", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (!wkp_cli_parse_audio_late ("render", audio_late_text, &audio_late))
    return WKP_EXIT_BAD_INPUT;
  if (files == NULL || files[0] == NULL || files[1] != NULL || output == NULL)
    {
      g_printerr ("wav2kp render: give one input FILE and -o OUT.mp4\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (height < 240 || height > 2160)
    {
      g_printerr ("wav2kp render: --height must be between 240 and 2160\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (threads < 1 || threads > 256)
    {
      g_printerr ("wav2kp render: --threads must be between 1 and 256\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if ((start_s != UNSET_SECONDS && !(start_s >= 0 && start_s < 1e7))
      || (end_s != UNSET_SECONDS && !(end_s > 0 && end_s < 1e7))
      || (start_s != UNSET_SECONDS && end_s != UNSET_SECONDS && !(end_s > start_s)))
    {
      g_printerr ("wav2kp render: --start must be 0 s or more, and --end after it\n");
      return WKP_EXIT_BAD_INPUT;
    }
  /* options that exclude each other: said, not silently resolved */
  if (model_paths != NULL && model_paths[0] != NULL && model_paths[1] != NULL)
    {
      g_printerr ("wav2kp render: give --model once; a second model goes with --compare\n");
      return WKP_EXIT_BAD_INPUT;
    }
  model_path = model_paths != NULL ? model_paths[0] : NULL;
  if (keypoints != NULL && model_path != NULL)
    {
      g_printerr ("wav2kp render: --keypoints and --model are alternatives (keypoints already predicted, or a "
                  "model to predict with)\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (no_predict && (keypoints != NULL || model_path != NULL || compare_path != NULL))
    {
      g_printerr ("wav2kp render: --no-predict draws no prediction: leave out --keypoints, --model and --compare\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (no_landmarks && landmarks != NULL)
    {
      g_printerr ("wav2kp render: --landmarks and --no-landmarks exclude each other\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (fps_text != NULL && !wkp_frame_rate_parse (fps_text, &spec.fps, &error))
    return wkp_cli_fail ("render", error);
  if (!wkp_check_output_path (output, &error))
    return wkp_cli_fail ("render", error);

  /* the models first, once each: a bad model fails before the media are decoded */
  if (keypoints == NULL && !no_predict && (model = load_model (model_path, &error)) == NULL)
    return wkp_cli_fail ("render", error);
  if (compare_path != NULL && (compare_model = load_model (compare_path, &error)) == NULL)
    return wkp_cli_fail ("render", error);

  spec.video = files[0];
  spec.audio = audio;
  clip = wkp_clip_audio_load (&spec, WKP_AUDIO_RATE, NULL, &error);
  if (clip == NULL)
    return wkp_cli_fail ("render", error);
  wkp_cli_note_ignored_fps ("render", fps_text, clip);
  wkp_cli_note_audio_mix ("render", clip);
  if (!wkp_clip_audio_fix_late (clip, audio_late, files[0], &error))
    return wkp_cli_fail ("render", error);
  /* audio only: frames at the rate the keypoints were predicted at, or the
   * model's own, unless --fps says otherwise (as predict does) */
  if (fps_text == NULL && clip->video_info == NULL)
    {
      WkpRational rate = { 0, 0 };
      if (keypoints != NULL)
        {
          g_autofree char *made_at = sidecar_string (keypoints, "fps");
          if (made_at == NULL || !wkp_rational_parse (made_at, &rate, NULL))
            rate = (WkpRational) { 0, 0 };
        }
      else if (model != NULL)
        rate = model->fps;
      if (wkp_rational_is_valid (rate) && wkp_clip_audio_set_fps (clip, rate))
        spec.fps = rate;   /* the sound for listening is framed alike */
    }

  if (keypoints != NULL)
    {
      gint64 want[] = { clip->n_frames, 68, 2 };
      g_autofree char *made_at = sidecar_string (keypoints, "fps");
      WkpRational made_fps;
      pred_npy = wkp_npy_load (keypoints, &error);
      /* keypoints predicted from the clip's own audio track can have one row
       * more than the video has frames (the sound outlasts the last picture
       * by part of a frame, and audio alone gives ceil(duration x fps)
       * rows): that row is left out, with a note, instead of refusing */
      if (pred_npy != NULL && clip->video_info != NULL && pred_npy->ndim == 3
          && pred_npy->shape[0] == clip->n_frames + 1 && pred_npy->shape[1] == 68 && pred_npy->shape[2] == 2)
        {
          g_printerr ("wav2kp render: note: %s has %" G_GINT64_FORMAT " frames and %s %" G_GINT64_FORMAT
                      "; its last frame (sound after the last picture) is not drawn\n",
                      keypoints, pred_npy->shape[0], files[0], clip->n_frames);
          pred_npy->shape[0] = clip->n_frames;
          pred_npy->n_elements = clip->n_frames * 68 * 2;
        }
      /* keypoints at another frame rate (their sidecar says) are another
       * clip's timing, whatever their length */
      if (pred_npy != NULL && made_at != NULL && wkp_rational_parse (made_at, &made_fps, NULL)
          && (gint64) made_fps.num * clip->fps.den != (gint64) clip->fps.num * made_fps.den)
        {
          g_autofree char *rate = wkp_rational_to_string (clip->fps);
          return wkp_cli_fail ("render", g_error_new (WKP_IO_ERROR, WKP_ERROR_MISMATCH,
                                                      "%s was predicted at %s fps (its sidecar) but %s runs at %s fps: "
                                                      "predict it at the clip's rate", keypoints, made_at, files[0],
                                                      rate));
        }
      /* of another length: said in frames (it was "expected a <f4 array of
       * shape (212, 68, 2)") */
      if (pred_npy != NULL && pred_npy->ndim == 3 && pred_npy->shape[1] == 68 && pred_npy->shape[2] == 2
          && pred_npy->shape[0] != clip->n_frames)
        return wkp_cli_fail ("render", g_error_new (WKP_IO_ERROR, WKP_ERROR_MISMATCH,
                                                    "%s holds keypoints for %" G_GINT64_FORMAT " frames, but %s has %"
                                                    G_GINT64_FORMAT ": predict them from this clip (wav2kp predict, "
                                                    "or render --model)", keypoints, pred_npy->shape[0], files[0],
                                                    clip->n_frames));
      if (pred_npy == NULL || !wkp_npy_check (pred_npy, keypoints, WKP_DTYPE_F32, 3, want, &error))
        return wkp_cli_fail ("render", error);
      /* nor with the sound moved otherwise than it was for them */
      {
        int made_late;
        const char *how;
        if (!keypoints_late (keypoints, &made_late, &how, &error))
          return wkp_cli_fail ("render", error);
        if (made_late != clip->audio_late)
          {
            g_autofree char *made = describe_move (made_late), *now = describe_move (clip->audio_late);
            return wkp_cli_fail ("render", g_error_new (WKP_IO_ERROR, WKP_ERROR_MISMATCH,
                                                        "%s: predicted from the sound %s (%s), but this render plays "
                                                        "it %s: give render --audio-late %d, or keypoints predicted "
                                                        "with --audio-late %d", keypoints, made, how, now, made_late,
                                                        clip->audio_late));
          }
      }
      if (!wkp_face_track_check (pred_npy->data, clip->n_frames, TRUE, keypoints, &error))
        {
          /* `predict --to-pixels` output: say that, not only what it leads to */
          g_autofree char *space = sidecar_string (keypoints, "space");
          if (g_strcmp0 (space, "pixels") == 0)
            {
              g_clear_error (&error);
              g_set_error (&error, WKP_IO_ERROR, WKP_ERROR_INVALID,
                           "%s holds keypoints in video pixels (its sidecar says \"space\": \"pixels\", from "
                           "predict --to-pixels); --keypoints takes predict's canonical-frame output (without "
                           "--to-pixels)", keypoints);
            }
          return wkp_cli_fail ("render", error);
        }
    }
  else if (model != NULL && (pred = predict (model, clip, threads, &error)) == NULL)
    return wkp_cli_fail ("render", error);
  if (compare_model != NULL && (compared = predict (compare_model, clip, threads, &error)) == NULL)
    return wkp_cli_fail ("render", error);
  /* an excerpt: the frames that overlap [start, end) */
  first = 0;
  end = clip->n_frames;
  if (start_s != UNSET_SECONDS)
    first = (gint64) floor (start_s * clip->fps.num / clip->fps.den + 1e-9);
  if (end_s != UNSET_SECONDS)
    end = MIN (end, (gint64) ceil (end_s * clip->fps.num / clip->fps.den - 1e-9));
  if (first >= clip->n_frames)
    return wkp_cli_fail ("render", g_error_new (WKP_EXPORT_ERROR, WKP_ERROR_INVALID,
                                                "%s lasts %.2f s (%" G_GINT64_FORMAT " frames): --start %g s is past "
                                                "its end", files[0], wkp_frame_to_us (clip->n_frames, clip->fps) / 1e6,
                                                clip->n_frames, start_s));
  end = MAX (end, first + 1);
  if (landmarks == NULL && !no_landmarks && clip->video_info != NULL && clip->video_info->has_video)
    {
      WkpLandmarkParams lp;
      wkp_landmark_params_init_default (&lp);
      /* an excerpt's faces are tracked from the clip's start: the same
       * landmarks as the whole clip's (tracking carries from frame to frame) */
      lp.max_frames = end;
      progress = wkp_cli_progress_new ("render: landmarks");
      track = wkp_landmarks_extract (files[0], clip->fps, &lp, wkp_cli_progress_update, progress, NULL, &error);
      g_clear_pointer (&progress, wkp_cli_progress_free);
      if (track == NULL)
        return wkp_cli_fail ("render", error);
      /* both count the decoded frames (the clip's count rules; an excerpt's
       * track ends with it) */
      if (track->n_frames != clip->n_frames)
        {
          WkpLandmarkTrack *fitted = wkp_landmark_track_new (clip->n_frames, clip->fps);
          gint64 n = MIN (track->n_frames, clip->n_frames);
          memcpy (fitted->points, track->points, sizeof (float) * WKP_N_LANDMARKS * 2 * n);
          memcpy (fitted->status, track->status, n);
          g_clear_pointer (&track, wkp_landmark_track_free);
          track = fitted;
        }
    }
  else if (landmarks != NULL)
    {
      track = wkp_landmark_track_load (landmarks, clip->fps, &error);
      if (track == NULL)
        return wkp_cli_fail ("render", error);
      if (!wkp_landmark_track_check_fits (track, landmarks, clip->n_frames,
                                          clip->video_info != NULL ? clip->video_info->width : 0,
                                          clip->video_info != NULL ? clip->video_info->height : 0, &error))
        return wkp_cli_fail ("render", error);
    }

  /* the legend names the model files (their shortest distinct path tails when
   * the names alike, e.g. two runs' model.wkpm); the caption names the clip */
  {
    g_autofree char *default_path = NULL;
    const char *names[2] = { NULL, compare_path };
    if (keypoints != NULL)
      names[0] = keypoints;
    else if (!no_predict)
      names[0] = model_path != NULL ? model_path : (default_path = wkp_cli_default_model (NULL));
    if (names[0] != NULL && names[1] != NULL && strcmp (names[0], names[1]) != 0)
      {
        g_auto(GStrv) shorts = wkp_path_short_names ((const char * const *) names, 2);
        pred_label = g_strdup (shorts[0]);
        comp_label = g_strdup (shorts[1]);
      }
    else
      {
        if (names[0] != NULL && names[1] != NULL)
          g_printerr ("wav2kp render: note: %s is compared with itself\n", names[0]);
        pred_label = names[0] != NULL ? g_path_get_basename (names[0]) : NULL;
        comp_label = names[1] != NULL ? g_path_get_basename (names[1]) : NULL;
      }
    if (title == NULL)
      {
        g_autofree char *clip_name = wkp_media_display_name (clip->video_info != NULL ? files[0] : NULL,
                                                             clip->audio_source);
        title = wkp_export_caption (clip_name, clip->audio_late, pred_label, comp_label);
      }
  }

  /* the model heard 16 kHz; people hear the source's own rate */
  listening = wkp_clip_audio_load_for_listening (&spec, clip->n_frames, NULL, &error);
  if (listening == NULL)
    return wkp_cli_fail ("render", error);
  wkp_audio_shift_frames (listening, clip->audio_late, clip->fps);   /* heard as the model heard it */

  wkp_export_params_init_default (&params);
  params.video = (clip->video_info != NULL && !no_video) ? files[0] : NULL;
  params.fps = clip->fps;
  params.n_frames = clip->n_frames;
  params.audio = listening;
  params.predicted = pred_npy ? pred_npy->data : pred;
  params.compared = compared;
  params.reference = track ? track->points : NULL;
  params.title = title;
  params.predicted_label = pred_label;
  params.compared_label = comp_label;
  params.height = height;
  params.start_frame = first;
  params.end_frame = end;
  progress = wkp_cli_progress_new ("render");
  rendered = wkp_export_clip (&params, output, wkp_cli_progress_update, progress, NULL, &error);
  wkp_plot_release_caches ();   /* cairo's and fontconfig's font caches (labels): no leak at exit */
  if (!rendered)
    return wkp_cli_fail ("render", error);
  return WKP_EXIT_OK;
}
