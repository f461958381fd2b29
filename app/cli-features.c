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
  g_autofree char *audio = NULL, *fps_text = NULL, *output = NULL, *kind = NULL;
  g_auto(GStrv) files = NULL;
  WkpFeatureConfig config;
  double window_ms, preemph, fmin, fmax;
  int subframes, n_mels, n_mfcc, n_fft, n_deltas;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-o OUT.npy — audio features, one row per video frame");
  g_autoptr(WkpClipAudio) clip = NULL;
  g_autoptr(WkpOutput) out = NULL;
  g_autofree float *rows = NULL;
  g_autofree char *json_path = NULL;
  WkpSourceSpec spec = { 0 };
  GError *error = NULL;
  gint64 shape[2];

  wkp_feature_config_init_default (&config);
  window_ms = config.window_ms;
  preemph = config.preemphasis;
  fmin = config.fmin;
  fmax = config.fmax;
  subframes = config.subframes;
  n_mels = config.n_mels;
  n_mfcc = config.n_mfcc;
  n_fft = config.n_fft;
  n_deltas = config.deltas;
  {
    GOptionEntry entries[] = {
      { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Output .npy (a .json sidecar is written beside it)", "OUT.npy" },
      { "audio", 'a', 0, G_OPTION_ARG_FILENAME, &audio, "Separate audio file for a silent video or image sequence", "AUDIO" },
      { "fps", 0, 0, G_OPTION_ARG_STRING, &fps_text, "Frame rate for audio-only input and image sequences (default 25)", "NUM/DEN" },
      { "kind", 0, 0, G_OPTION_ARG_STRING, &kind, "mfcc (default) or logmel", "KIND" },
      { "subframes", 0, 0, G_OPTION_ARG_INT, &subframes, "Analysis windows stacked per video frame (default 4)", "N" },
      { "window-ms", 0, 0, G_OPTION_ARG_DOUBLE, &window_ms, "Analysis window length in ms (default 25)", "MS" },
      { "n-fft", 0, 0, G_OPTION_ARG_INT, &n_fft, "FFT size (default 512)", "N" },
      { "mels", 0, 0, G_OPTION_ARG_INT, &n_mels, "Mel bands (default 40)", "N" },
      { "mfcc", 0, 0, G_OPTION_ARG_INT, &n_mfcc, "Cepstral coefficients kept, incl. c0 (default 13)", "N" },
      { "fmin", 0, 0, G_OPTION_ARG_DOUBLE, &fmin, "Lowest mel filter edge in Hz (default 20)", "HZ" },
      { "fmax", 0, 0, G_OPTION_ARG_DOUBLE, &fmax, "Highest mel filter edge in Hz (default 7600)", "HZ" },
      { "preemphasis", 0, 0, G_OPTION_ARG_DOUBLE, &preemph, "Pre-emphasis coefficient, 0 disables (default 0.97)", "A" },
      { "deltas", 0, 0, G_OPTION_ARG_INT, &n_deltas, "0: none, 1: +delta, 2: +delta+delta-delta (default 2)", "N" },
      { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE" },
      { NULL }
    };
    g_option_context_add_main_entries (ctx, entries, NULL);
  }
  g_option_context_set_description (ctx,
    "FILE is a video, an image sequence pattern (with --audio) or an audio file.\n"
    "Writes float32 [T, D]: T = number of video frames (audio-only: frames at --fps),\n"
    "D = subframes x coefficients x (1 + deltas); OUT.json records the config, fps and source.");
  if (!wkp_cli_parse (ctx, "features", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (kind != NULL && g_strcmp0 (kind, "mfcc") != 0 && g_strcmp0 (kind, "logmel") != 0)
    {
      g_printerr ("wav2kp features: --kind must be mfcc or logmel, not “%s”\n", kind);
      return WKP_EXIT_BAD_INPUT;
    }
  config.kind = g_strcmp0 (kind, "logmel") == 0 ? WKP_FEATURE_LOGMEL : WKP_FEATURE_MFCC;
  config.window_ms = window_ms;
  config.preemphasis = preemph;
  config.fmin = fmin;
  config.fmax = fmax;
  config.subframes = subframes;
  config.n_mels = n_mels;
  config.n_mfcc = n_mfcc;
  config.n_fft = n_fft;
  config.deltas = n_deltas;
  if (!wkp_feature_config_validate (&config, &error))
    return wkp_cli_fail ("features", error);
  if (!wkp_cli_clip_args ("features", files, output, fps_text, &spec, &json_path))
    return WKP_EXIT_BAD_INPUT;
  spec.audio = audio;
  clip = wkp_clip_audio_load (&spec, config.sample_rate, NULL, &error);
  if (clip == NULL)
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
