/* wav2kp features FILE [--audio AUDIO] [--fps NUM/DEN] [feature options] -o OUT.npy */
#include "wkp-cli.h"
#include "wkp-config.h"
#include "wkp-features.h"
#include "wkp-io.h"
#include "wkp-media.h"
#include "wkp-npy.h"

#include <stdio.h>

int
wkp_cli_features (int argc, char **argv)
{
  g_autofree char *audio = NULL, *fps_text = NULL, *output = NULL;
  g_auto(GStrv) files = NULL;
  WkpFeatureConfig config;
  g_auto(WkpCliFeatureOptions) fo = { 0 };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-o OUT.npy — audio features, one row per video frame");
  g_autoptr(WkpClipAudio) clip = NULL;
  g_autoptr(WkpOutput) out = NULL;
  g_autofree float *rows = NULL;
  g_autofree char *json_path = NULL;
  WkpSourceSpec spec = { 0 };
  GError *error = NULL;
  int audio_late = 0;
  g_autofree char *audio_late_text = NULL;
  gint64 shape[2];

  wkp_feature_config_init_default (&config);
  {
    GOptionEntry entries[] = {
      { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Output .npy (a .json sidecar is written beside it)", "OUT.npy" },
      { "audio", 'a', 0, G_OPTION_ARG_FILENAME, &audio, "Separate audio file for a silent video or image sequence", "AUDIO" },
      { "fps", 0, 0, G_OPTION_ARG_STRING, &fps_text, "Frame rate for audio-only input and image sequences (default 25)", "NUM/DEN" },
      { "audio-late", 0, 0, G_OPTION_ARG_STRING, &audio_late_text, WKP_CLI_AUDIO_LATE_HELP, "FRAMES" },
      { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE" },
      { NULL }
    };
    g_option_context_add_main_entries (ctx, entries, NULL);
    wkp_cli_feature_options_add (ctx, &fo, &config);
  }
  g_option_context_set_description (ctx,
    "FILE is a video, an image sequence pattern (with --audio) or an audio file.\n"
    "Writes float32 [T, D]: T = number of video frames (audio-only: frames at --fps),\n"
    "D = subframes x coefficients x (1 + deltas); OUT.json records the config, fps and source.");
  if (!wkp_cli_parse (ctx, "features", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (!wkp_cli_parse_audio_late ("features", audio_late_text, &audio_late))
    return WKP_EXIT_BAD_INPUT;
  if (!wkp_cli_feature_options_apply (&fo, "features"))
    return WKP_EXIT_BAD_INPUT;
  if (!wkp_cli_clip_args ("features", files, output, fps_text, &spec, &json_path))
    return WKP_EXIT_BAD_INPUT;
  spec.audio = audio;
  clip = wkp_clip_audio_load (&spec, config.sample_rate, NULL, &error);
  if (clip == NULL)
    return wkp_cli_fail ("features", error);
  wkp_cli_note_ignored_fps ("features", fps_text, clip);
  wkp_cli_note_audio_mix ("features", clip);
  if (!wkp_clip_audio_fix_late (clip, audio_late, files[0], &error))
    return wkp_cli_fail ("features", error);

  rows = wkp_features_compute (&config, clip->audio->samples, clip->audio->n_samples, clip->fps,
                               clip->n_frames, &error);
  if (rows == NULL)
    return wkp_cli_fail ("features", error);

  shape[0] = clip->n_frames;
  shape[1] = wkp_feature_config_dim (&config);
  out = wkp_output_new ();
  {
    g_autoptr(GBytes) npy = wkp_npy_encode (WKP_DTYPE_F32, 2, shape, rows);
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) sidecar = NULL;

    wkp_cli_sidecar_begin (b, "wav2kp.features", files[0], clip);
    json_builder_set_member_name (b, "dim");
    json_builder_add_int_value (b, shape[1]);
    json_builder_set_member_name (b, "audio_samples");
    json_builder_add_int_value (b, clip->audio->n_samples);
    json_builder_set_member_name (b, "config");
    json_builder_add_value (b, wkp_feature_config_to_json (&config));
    json_builder_end_object (b);
    sidecar = json_builder_get_root (b);

    if (!wkp_output_add_bytes (out, output, npy, &error) ||
        !wkp_output_add_json (out, json_path, sidecar, &error) ||
        !wkp_output_commit (out, &error))
      return wkp_cli_fail ("features", error);
  }
  return WKP_EXIT_OK;
}
