/* wav2kp bench evaluate: evaluation of 10 minutes of frames with two models.
 *
 * Synthetic input (so that it runs anywhere): 10 minutes of speech-like
 * audio (noise modulated at a syllable rate) and a 25 fps reference track of
 * faces in pixels whose mouth follows the modulation, each frame with its own
 * head pose. Each model predicts from the audio (features + LSTM) and is
 * scored with every metric, as `wav2kp evaluate` does per clip. Feature
 * extraction is timed apart: on a prepared dataset it is cached. The baseline
 * measured in the same run is the reference pass alone (normalising 15,000
 * faces); the figure that matters is the total against real time. */
#include "wkp-cli.h"

#include "wkp-error.h"
#include "wkp-face.h"
#include "wkp-features.h"
#include "wkp-metrics.h"
#include "wkp-model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NXY (WKP_N_LANDMARKS * 2)

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

static WkpModel *
bench_model (const char *path, GError **error)
{
  WkpFeatureConfig config;
  WkpModel *model;
  if (path != NULL)
    return wkp_model_load (path, error);
  /* a stand-in of the default model's size: mouth points, 2 x 128
   * bidirectional LSTM (weights 0: the cost is the same) */
  wkp_feature_config_init_default (&config);
  model = wkp_model_new (&config, WKP_RATIONAL (25, 1), 2, 0, TRUE, WKP_MOUTH_COUNT, (const int[]) {
                           48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67 },
                         16, 128, 2, TRUE);
  return model;
}

int
wkp_bench_evaluate (int argc, char **argv)
{
  g_auto(GStrv) models = NULL;
  int threads = 1;
  double minutes = 10.0;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &models,
      "Model file (give two; default: the shipped model twice, or a stand-in of its size)", "FILE" },
    { "minutes", 0, 0, G_OPTION_ARG_DOUBLE, &minutes, "Length of the synthetic input (10)", "MIN" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Inference threads (1)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— evaluation of 10 minutes of frames with two models");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree float *audio = NULL, *ref = NULL, *ref_norm = NULL, *pred_norm = NULL;
  g_autofree double *ref_ap = NULL, *pred_ap = NULL, *env = NULL;
  const WkpRational fps = WKP_RATIONAL (25, 1);
  const int rate = 16000;
  gint64 n_frames, n_samples;
  double t0, t_ref, t_total = 0.0, t_cached = 0.0, t_energy = 0.0, slope = 0, icpt = 0;
  GRand *rand;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!wkp_cli_parse (ctx, "bench evaluate", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (!(minutes > 0.0 && minutes <= 120.0) || threads < 1 || threads > 64)
    return wkp_cli_fail ("bench", g_error_new_literal (WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                                                       "--minutes must be in (0, 120] and --threads 1..64"));
  if (models != NULL)
    for (int i = 0; models[i] != NULL; i++)
      g_ptr_array_add (paths, g_strdup (models[i]));
  if (paths->len == 0)
    {
      char *def = wkp_cli_default_model (NULL);
      g_ptr_array_add (paths, def);
      g_ptr_array_add (paths, g_strdup (def));
    }
  if (paths->len == 1)
    g_ptr_array_add (paths, g_strdup (g_ptr_array_index (paths, 0)));

  n_samples = (gint64) (minutes * 60.0 * rate);
  n_frames = wkp_frames_for_samples (n_samples, fps, rate);

  /* synthetic input */
  rand = g_rand_new_with_seed (7);
  audio = g_new (float, n_samples);
  for (gint64 s = 0; s < n_samples; s++)
    {
      double t = (double) s / rate, syllable = 0.5 + 0.5 * sin (2 * G_PI * 4.0 * t + sin (0.7 * t));
      audio[s] = (float) (0.2 * syllable * syllable * g_rand_double_range (rand, -1, 1));
    }
  ref = g_new (float, n_frames * NXY);
  for (gint64 f = 0; f < n_frames; f++)
    {
      double t = (f + 0.5) / 25.0, open = 0.15 * pow (0.5 + 0.5 * sin (2 * G_PI * 4.0 * t + sin (0.7 * t)), 2);
      double scale = 90 + 20 * sin (0.1 * t), rot = 0.1 * sin (0.05 * t);
      WkpSimilarity sim = { scale * cos (rot), scale * sin (rot), 320 + 10 * sin (0.3 * t), 240 };
      float face[NXY];
      memcpy (face, wkp_face_canonical (), sizeof face);
      for (int i = 55; i <= 59; i++)
        face[2 * i + 1] += (float) open;
      for (int i = 65; i <= 67; i++)
        face[2 * i + 1] += (float) open;
      for (int i = 0; i < NXY; i++)
        face[i] += (float) g_rand_double_range (rand, -0.003, 0.003);
      wkp_similarity_apply (&sim, face, ref + f * NXY, WKP_N_LANDMARKS);
    }
  g_rand_free (rand);

  printf ("wav2kp bench evaluate: %.1f min of 16 kHz audio, %" G_GINT64_FORMAT " frames at 25 fps, %u models, "
          "%d inference thread(s)\n\n", minutes, n_frames, paths->len, threads);

  /* baseline: the reference pass alone */
  ref_norm = g_new (float, n_frames * NXY);
  ref_ap = g_new (double, n_frames);
  pred_norm = g_new (float, n_frames * NXY);
  pred_ap = g_new (double, n_frames);
  t0 = now_s ();
  wkp_metrics_normalize_track (ref, n_frames, ref_norm, ref_ap);
  t_ref = now_s () - t0;
  t_total += t_ref;
  printf ("%-44s %8.3f s   (baseline)\n", "reference: normalise faces + aperture", t_ref);

  /* energy baseline: envelope, fit, score */
  t0 = now_s ();
  env = g_new (double, n_frames);
  wkp_metrics_energy_envelope (audio, n_samples, rate, fps, n_frames, env);
  if (wkp_metrics_linear_fit (env, ref_ap, n_frames, &slope, &icpt, NULL))
    {
      g_autoptr(WkpMetricsAccum) acc = wkp_metrics_accum_new (WKP_METRICS_MAX_LAG);
      WkpMetrics m;
      for (gint64 f = 0; f < n_frames; f++)
        pred_ap[f] = slope * env[f] + icpt;
      wkp_metrics_accum_add_clip (acc, ref_norm, ref_ap, NULL, pred_ap, n_frames);
      wkp_metrics_accum_result (acc, &m);
    }
  {
    double t = now_s () - t0;
    t_total += t;
    t_energy = t;
    printf ("%-44s %8.3f s   %6.2fx baseline\n", "energy baseline: envelope, fit, metrics", t, t / t_ref);
  }

  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      g_autoptr(WkpModel) model = NULL;
      g_autoptr(WkpMetricsAccum) acc = wkp_metrics_accum_new (WKP_METRICS_MAX_LAG);
      g_autofree float *pred = NULL, *feats = NULL;
      g_autofree char *label = NULL;
      double t_feat, t_pred, t_metrics;
      gint64 n_rows;
      WkpMetrics m;

      model = bench_model (path, &error);
      if (model == NULL)
        return wkp_cli_fail ("bench", g_steal_pointer (&error));
      label = path != NULL ? g_path_get_basename (path) : g_strdup ("stand-in 2x128 BiLSTM");
      /* as `wav2kp evaluate` on a prepared dataset: features are cached
       * there, so they are timed apart from the network */
      t0 = now_s ();
      n_rows = wkp_frames_for_samples (n_samples, model->fps, model->features.sample_rate);
      feats = wkp_features_compute (&model->features, audio, n_samples, model->fps, n_rows, &error);
      if (feats == NULL)
        return wkp_cli_fail ("bench", g_steal_pointer (&error));
      t_feat = now_s () - t0;
      t0 = now_s ();
      pred = wkp_model_predict_features (model, feats, n_rows, fps, n_frames, threads, &error);
      if (pred == NULL)
        return wkp_cli_fail ("bench", g_steal_pointer (&error));
      t_pred = now_s () - t0;
      t0 = now_s ();
      wkp_metrics_normalize_track (pred, n_frames, pred_norm, pred_ap);
      wkp_metrics_accum_add_clip (acc, ref_norm, ref_ap, pred_norm, pred_ap, n_frames);
      wkp_metrics_accum_result (acc, &m);
      t_metrics = now_s () - t0;
      t_total += t_feat + t_pred + t_metrics;
      t_cached += t_pred + t_metrics;
      printf ("model %u (%s)\n", i + 1, label);
      printf ("  %-42s %8.3f s   %6.2fx baseline\n", "audio features (cached in a dataset)", t_feat, t_feat / t_ref);
      printf ("  %-42s %8.3f s   %6.2fx baseline\n", "predict from features (network)", t_pred, t_pred / t_ref);
      printf ("  %-42s %8.3f s   %6.2fx baseline\n", "normalise + all metrics", t_metrics, t_metrics / t_ref);
      if (m.n_compared != n_frames)
        return wkp_cli_fail ("bench", g_error_new (WKP_METRICS_ERROR, WKP_ERROR_FAILED,
                                                   "only %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " frames compared",
                                                   m.n_compared, n_frames));
    }
  t_cached += t_ref + t_energy;
  printf ("\n%-44s %8.3f s   %6.2fx baseline, %.0fx real time (%.0f frames/s)\n", "total, features from audio",
          t_total, t_total / t_ref, minutes * 60.0 / t_total, n_frames / t_total);
  printf ("%-44s %8.3f s   %6.2fx baseline, %.0fx real time (%.0f frames/s)\n", "total, features cached (evaluate DATASET)",
          t_cached, t_cached / t_ref, minutes * 60.0 / t_cached, n_frames / t_cached);
  return WKP_EXIT_OK;
}
