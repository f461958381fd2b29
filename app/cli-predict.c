/* wav2kp predict FILE [--audio AUDIO] [--model MODEL] [--fps NUM/DEN] [--threads N]
 *                [--to-pixels LANDMARKS] -o OUT.npy */
#include "wkp-cli.h"
#include "wkp-config.h"
#include "wkp-face.h"
#include "wkp-landmarks.h"
#include "wkp-io.h"
#include "wkp-media.h"
#include "wkp-model.h"
#include "wkp-npy.h"

#include <math.h>
#include <stdio.h>

/* Pixel landmarks of the video (our .npy, a face-alignment .npy or an
 * OpenFace-style CSV) -> per-frame transforms. A track of another clip or
 * one in the canonical face frame (`landmarks --normalize`) is refused, as
 * render and frames refuse it: "pixels" of ~1 in size were written. */
static gboolean
load_transforms (const char *path, const WkpClipAudio *clip, WkpSimilarity **tf_out, gboolean **valid_out,
                 GError **error)
{
  g_autoptr(WkpLandmarkTrack) track = NULL;
  g_autofree WkpSimilarity *tf = NULL;
  g_autofree gboolean *valid = NULL;
  float canon[2 * WKP_N_LANDMARKS];
  gint64 n_frames = clip->n_frames;

  /* the track's companions belong to it: no output may replace them (-o
   * LM.status.npy did) */
  {
    g_autofree char *status = wkp_path_replace_ext (path, ".status.npy");
    g_autofree char *side = wkp_path_replace_ext (path, ".json");
    wkp_io_note_input (status);
    wkp_io_note_input (side);
  }
  track = wkp_landmark_track_load (path, clip->fps, error);
  if (track == NULL
      || !wkp_landmark_track_check_fits (track, path, n_frames, clip->video_info != NULL ? clip->video_info->width : 0,
                                         clip->video_info != NULL ? clip->video_info->height : 0, error))
    return FALSE;
  tf = g_new0 (WkpSimilarity, MAX (n_frames, 1));
  valid = g_new0 (gboolean, MAX (n_frames, 1));
  for (gint64 f = 0; f < n_frames; f++)
    {
      const float *p = track->points + f * 2 * WKP_N_LANDMARKS;
      g_autoptr(GError) local = NULL;
      valid[f] = wkp_face_normalize (p, canon, &tf[f], &local);   /* no face in this frame: NaN output */
    }
  *tf_out = g_steal_pointer (&tf);
  *valid_out = g_steal_pointer (&valid);
  return TRUE;
}

int
wkp_cli_predict (int argc, char **argv)
{
  g_autofree char *audio = NULL, *fps_text = NULL, *output = NULL, *model_path = NULL, *pixels_from = NULL;
  g_auto(GStrv) files = NULL;
  int threads = 1;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-o OUT.npy — facial keypoints predicted from speech");
  g_autoptr(WkpModel) model = NULL;
  g_autoptr(WkpClipAudio) clip = NULL;
  g_autoptr(WkpOutput) out = NULL;
  g_autofree float *points = NULL;
  g_autofree char *json_path = NULL;
  g_autofree WkpSimilarity *tf = NULL;
  g_autofree gboolean *valid = NULL;
  WkpSourceSpec spec = { 0 };
  GError *error = NULL;
  int audio_late = 0;
  g_autofree char *audio_late_text = NULL;
  gint64 t0, shape[3];
  double secs;

  {
    GOptionEntry entries[] = {
      { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Output .npy, float32 [T, 68, 2] (a .json sidecar is written beside it)", "OUT.npy" },
      { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model file (default: the installed default model)", "MODEL" },
      { "audio", 'a', 0, G_OPTION_ARG_FILENAME, &audio, "Separate audio file for a silent video or image sequence", "AUDIO" },
      { "fps", 0, 0, G_OPTION_ARG_STRING, &fps_text, "Frame rate for audio-only input (default: the model's) and image sequences (default 25)", "NUM/DEN" },
      { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "OpenBLAS threads (default 1)", "N" },
      { "to-pixels", 0, 0, G_OPTION_ARG_FILENAME, &pixels_from,
        "Map the prediction into the video's pixels using its extracted landmarks (.npy [T, 68, 2] or CSV; frames without a face get NaN)", "LANDMARKS" },
      { "audio-late", 0, 0, G_OPTION_ARG_STRING, &audio_late_text, WKP_CLI_AUDIO_LATE_HELP, "FRAMES" },
      { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE" },
      { NULL }
    };
    g_option_context_add_main_entries (ctx, entries, NULL);
  }
  g_option_context_set_description (ctx,
    "FILE is a video (its own frame rate and frame count are used), an image sequence\n"
    "pattern with --audio, or an audio file (frames at --fps, default the model's own rate).\n"
    "Writes float32 [T, 68, 2] in the canonical face frame (eye corners 36-45 at distance 1,\n"
    "centred, y down), row i covering [i*den/num, (i+1)*den/num) s; points the model does not\n"
    "predict are the model's mean face. OUT.json records the model, fps and source.");
  if (!wkp_cli_parse (ctx, "predict", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (!wkp_cli_parse_audio_late ("predict", audio_late_text, &audio_late))
    return WKP_EXIT_BAD_INPUT;
  if (!wkp_cli_clip_args ("predict", files, output, fps_text, &spec, &json_path))
    return WKP_EXIT_BAD_INPUT;
  if (threads < 1 || threads > 256)
    {
      g_printerr ("wav2kp predict: --threads must be between 1 and 256\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (model_path == NULL && (model_path = wkp_cli_default_model (&error)) == NULL)
    return wkp_cli_fail ("predict", error);
  model = wkp_model_load (model_path, &error);
  if (model == NULL)
    return wkp_cli_fail ("predict", error);

  spec.audio = audio;
  clip = wkp_clip_audio_load (&spec, model->features.sample_rate, NULL, &error);
  if (clip == NULL)
    return wkp_cli_fail ("predict", error);
  wkp_cli_note_ignored_fps ("predict", fps_text, clip);
  wkp_cli_note_audio_mix ("predict", clip);
  if (!wkp_clip_audio_fix_late (clip, audio_late, files[0], &error))
    return wkp_cli_fail ("predict", error);
  /* audio only: frames at the model's own rate unless --fps says otherwise
   * (a 29.97 fps model gave 25 fps keypoints) */
  if (fps_text == NULL)
    wkp_clip_audio_set_fps (clip, model->fps);
  if (pixels_from != NULL && !load_transforms (pixels_from, clip, &tf, &valid, &error))
    return wkp_cli_fail ("predict", error);

  t0 = g_get_monotonic_time ();
  points = wkp_model_predict_audio (model, clip->audio->samples, clip->audio->n_samples, clip->fps, clip->n_frames,
                                    threads, NULL, &error);
  if (points == NULL)
    return wkp_cli_fail ("predict", error);
  secs = (g_get_monotonic_time () - t0) / 1e6;
  if (tf != NULL)
    wkp_model_to_pixels (points, clip->n_frames, tf, valid, points);

  shape[0] = clip->n_frames;
  shape[1] = WKP_N_LANDMARKS;
  shape[2] = 2;
  out = wkp_output_new ();
  {
    g_autoptr(GBytes) npy = wkp_npy_encode (WKP_DTYPE_F32, 3, shape, points);
    g_autoptr(JsonNode) sidecar = wkp_cli_prediction_sidecar (files[0], clip, model, model_path,
                                                              tf != NULL ? pixels_from : NULL, secs);

    if (!wkp_output_add_bytes (out, output, npy, &error) ||
        !wkp_output_add_json (out, json_path, sidecar, &error) ||
        !wkp_output_commit (out, &error))
      return wkp_cli_fail ("predict", error);
  }
  return WKP_EXIT_OK;
}
