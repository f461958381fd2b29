/* wav2kp bench features [FILE] [--minutes M]: feature extraction speed as a
 * multiple of real time and as a ratio to the cost of decoding the same audio
 * alone (the baseline, measured in the same run). The input is decoded M
 * times back to back (default: the 60 s HDTF clip of ../shared/data, 10x =
 * 10 minutes). */
#include "wkp-cli.h"
#include "wkp-config.h"
#include "wkp-features.h"
#include "wkp-media.h"

#include <stdio.h>

int
wkp_bench_features (int argc, char **argv)
{
  double minutes = 10;
  g_auto(GStrv) files = NULL;
  GOptionEntry entries[] = {
    { "minutes", 0, 0, G_OPTION_ARG_DOUBLE, &minutes, "Minutes of audio to process at least, in whole passes over FILE (default 10)", "MIN" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[FILE] — features vs bare decode");
  g_autofree char *path = NULL;
  WkpFeatureConfig config;
  double t_decode = 0, t_feat = 0, audio_s = 0;
  int reps = 0;
  GError *error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!wkp_cli_parse (ctx, "bench features", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (!(minutes > 0 && minutes <= 24 * 60))
    {
      g_printerr ("wav2kp bench features: --minutes must be above 0 and at most 1440 (got %g)\n", minutes);
      return WKP_EXIT_BAD_INPUT;
    }
  if (files != NULL && files[0] != NULL)
    path = g_strdup (files[0]);
  else
    path = g_build_filename (WKP_SOURCE_DIR, "..", "shared", "data", "av", "tanshuai0219__EDTalk", "test_data",
                             "pose_source2.mp4", NULL);
  wkp_feature_config_init_default (&config);

  while (audio_s < minutes * 60.0)
    {
      g_autoptr(WkpAudio) audio = NULL;
      g_autofree float *rows = NULL;
      gint64 t0 = g_get_monotonic_time (), t1, t2, frames;

      audio = wkp_audio_load (path, config.sample_rate, NULL, NULL, &error);
      if (audio == NULL)
        return wkp_cli_fail ("bench", error);
      if (audio->n_samples < config.sample_rate)
        return wkp_cli_fail ("bench", g_error_new (WKP_MEDIA_ERROR, WKP_ERROR_INVALID,
                                                   "%s: less than a second of audio", path));
      t1 = g_get_monotonic_time ();
      frames = wkp_frames_for_samples (audio->n_samples, WKP_RATIONAL (25, 1), config.sample_rate);
      rows = wkp_features_compute (&config, audio->samples, audio->n_samples, WKP_RATIONAL (25, 1), frames, &error);
      if (rows == NULL)
        return wkp_cli_fail ("bench", error);
      t2 = g_get_monotonic_time ();
      t_decode += (t1 - t0) / 1e6;
      t_feat += (t2 - t1) / 1e6;
      audio_s += (double) audio->n_samples / config.sample_rate;
      reps++;
    }

  printf ("input            %s (decoded %d times)\n", path, reps);
  printf ("audio            %.1f s (%.1f min)\n", audio_s, audio_s / 60);
  printf ("decode alone     %.3f s  (%.0fx real time)   <- baseline\n", t_decode, audio_s / t_decode);
  printf ("features only    %.3f s  (%.0fx real time)\n", t_feat, audio_s / t_feat);
  printf ("decode+features  %.3f s  (%.0fx real time)\n", t_decode + t_feat, audio_s / (t_decode + t_feat));
  printf ("ratio (decode+features)/decode = %.2f   (target <= 2.00)\n", (t_decode + t_feat) / t_decode);
  return WKP_EXIT_OK;
}
