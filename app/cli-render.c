/* wav2kp render FILE [--audio A] [--keypoints P.npy | --model M] [--landmarks L] -o OUT.mp4
 *
 * A presentation clip: the video with its extracted landmarks, the predicted
 * mouth beside the extracted one in the canonical face frame, and the
 * inner-lip aperture over time, with the audio. */
#include "wkp-cli.h"
#include "wkp-export.h"
#include "wkp-face.h"
#include "wkp-io.h"
#include "wkp-landmarks.h"
#include "wkp-media.h"
#include "wkp-model.h"
#include "wkp-npy.h"
#include "wkp-plot.h"

#include <stdio.h>
#include <string.h>

int
wkp_cli_render (int argc, char **argv)
{
  g_autofree char *audio = NULL, *fps_text = NULL, *output = NULL, *keypoints = NULL, *model_path = NULL;
  g_autofree char *landmarks = NULL, *title = NULL;
  gboolean no_video = FALSE, no_predict = FALSE;
  int height = 480, threads = 1;
  g_auto(GStrv) files = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Output MP4", "OUT.mp4" },
    { "audio", 'a', 0, G_OPTION_ARG_FILENAME, &audio, "Separate audio for a silent video or image sequence", "AUDIO" },
    { "fps", 0, 0, G_OPTION_ARG_STRING, &fps_text, "Frame rate for audio-only input and image sequences (25)", "NUM/DEN" },
    { "keypoints", 'k', 0, G_OPTION_ARG_FILENAME, &keypoints, "Predicted keypoints [T,68,2] (from wav2kp predict)", "PRED.npy" },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Predict with this model (default: the shipped one)", "MODEL" },
    { "no-predict", 0, 0, G_OPTION_ARG_NONE, &no_predict, "Draw no prediction", NULL },
    { "landmarks", 'l', 0, G_OPTION_ARG_FILENAME, &landmarks, "Extracted landmarks of the video (wav2kp landmarks)", "FILE" },
    { "no-video", 0, 0, G_OPTION_ARG_NONE, &no_video, "Leave the video panel out", NULL },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, "Caption", "TEXT" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "Height of the face panels in pixels (480)", "PX" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "OpenBLAS threads for prediction (1)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-o OUT.mp4 — render a presentation clip");
  g_autoptr(WkpClipAudio) clip = NULL;
  g_autoptr(WkpNpy) pred_npy = NULL;
  g_autoptr(WkpLandmarkTrack) track = NULL;
  g_autofree float *pred = NULL;
  g_autoptr(WkpCliProgress) progress = NULL;
  WkpSourceSpec spec = { 0 };
  WkpExportParams params;
  GError *error = NULL;
  gboolean rendered;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!wkp_cli_parse (ctx, "render", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (files == NULL || files[0] == NULL || files[1] != NULL || output == NULL)
    {
      g_printerr ("wav2kp render: give one input FILE and -o OUT.mp4\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (height < 64 || height > 2160)
    {
      g_printerr ("wav2kp render: --height must be between 64 and 2160\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (threads < 1 || threads > 256)
    {
      g_printerr ("wav2kp render: --threads must be between 1 and 256\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (fps_text != NULL && !wkp_frame_rate_parse (fps_text, &spec.fps, &error))
    return wkp_cli_fail ("render", error);
  if (!wkp_check_output_path (output, &error))
    return wkp_cli_fail ("render", error);

  spec.video = files[0];
  spec.audio = audio;
  clip = wkp_clip_audio_load (&spec, WKP_AUDIO_RATE, NULL, &error);
  if (clip == NULL)
    return wkp_cli_fail ("render", error);

  if (keypoints != NULL)
    {
      gint64 want[] = { clip->n_frames, 68, 2 };
      pred_npy = wkp_npy_load (keypoints, &error);
      if (pred_npy == NULL || !wkp_npy_check (pred_npy, keypoints, WKP_DTYPE_F32, 3, want, &error)
          || !wkp_face_track_check (pred_npy->data, clip->n_frames, TRUE, keypoints, &error))
        return wkp_cli_fail ("render", error);
    }
  else if (!no_predict)
    {
      g_autoptr(WkpModel) model = NULL;
      g_autofree char *path = model_path ? g_strdup (model_path) : wkp_cli_default_model (&error);
      if (path == NULL)
        return wkp_cli_fail ("render", error);
      model = wkp_model_load (path, &error);
      if (model == NULL)
        return wkp_cli_fail ("render", error);
      pred = wkp_model_predict_audio (model, clip->audio->samples, clip->audio->n_samples, clip->fps,
                                      clip->n_frames, threads, NULL, &error);
      if (pred == NULL)
        return wkp_cli_fail ("render", error);
    }
  if (landmarks != NULL)
    {
      track = wkp_landmark_track_load (landmarks, clip->fps, &error);
      if (track == NULL)
        return wkp_cli_fail ("render", error);
      if (!wkp_landmark_track_check_fits (track, landmarks, clip->n_frames,
                                          clip->video_info != NULL ? clip->video_info->width : 0,
                                          clip->video_info != NULL ? clip->video_info->height : 0, &error))
        return wkp_cli_fail ("render", error);
    }

  wkp_export_params_init_default (&params);
  params.video = (clip->video_info != NULL && !no_video) ? files[0] : NULL;
  params.fps = clip->fps;
  params.n_frames = clip->n_frames;
  params.audio = clip->audio;
  params.predicted = pred_npy ? pred_npy->data : pred;
  params.reference = track ? track->points : NULL;
  params.title = title;
  params.height = height;
  progress = wkp_cli_progress_new ("render");
  rendered = wkp_export_clip (&params, output, wkp_cli_progress_update, progress, NULL, &error);
  wkp_plot_release_caches ();   /* cairo's and fontconfig's font caches (labels): no leak at exit */
  if (!rendered)
    return wkp_cli_fail ("render", error);
  return WKP_EXIT_OK;
}
