/* wav2kp bench train: time per training epoch, C trainer vs PyTorch CPU.
 *
 * Same architecture, initial weights, minibatches, loss, clipping, AdamW and
 * learning rates on both sides (wkp_train_parity_dump + tools/torch_parity.py
 * replay), measured in one run on the same machine and thread count; also
 * prints how closely the losses agree. */
#include "wkp-cli.h"
#include "wkp-config.h"
#include "wkp-face.h"
#include "wkp-io.h"
#include "wkp-train.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>

static WkpTrainData *
bench_data (int n_speakers, int clips, int frames)
{
  WkpFeatureConfig fc;
  wkp_feature_config_init_default (&fc);
  const int D = wkp_feature_config_dim (&fc);
  WkpTrainData *data = wkp_train_data_new (&fc, WKP_RATIONAL (25, 1));
  GRand *rand = g_rand_new_with_seed (42);
  const float *canon = wkp_face_canonical ();
  for (int s = 0; s < n_speakers; s++)
    for (int c = 0; c < clips; c++)
      {
        g_autofree char *spk = g_strdup_printf ("s%d", s);
        g_autofree char *name = g_strdup_printf ("s%d/%d", s, c);
        float *f = g_new (float, (gsize) frames * D);
        float *t = g_new (float, (gsize) frames * WKP_N_LANDMARKS * 2);
        for (gsize i = 0; i < (gsize) frames * D; i++)
          f[i] = (float) g_rand_double_range (rand, -1, 1);
        for (int i = 0; i < frames; i++)
          {
            double open = g_rand_double_range (rand, 0, 0.1);
            for (int k = 0; k < WKP_N_LANDMARKS * 2; k++)
              t[i * WKP_N_LANDMARKS * 2 + k] = canon[k] + (float) ((k & 1) && k > 2 * 55 ? open : 0.0) +
                                                (float) g_rand_double_range (rand, -0.005, 0.005);
          }
        WkpSplit split = s == n_speakers - 1 ? WKP_SPLIT_VAL : WKP_SPLIT_TRAIN;
        wkp_train_data_add_clip (data, name, spk, split, frames, f, t);
      }
  g_rand_free (rand);
  return data;
}

static double
json_double (JsonObject *o, const char *name)
{
  return json_object_has_member (o, name) ? json_object_get_double_member (o, name) : NAN;
}

int
wkp_bench_train (int argc, char **argv)
{
  int steps = 30, threads = 1, epoch_steps = 0;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— training step time, C vs PyTorch CPU");
  GOptionEntry entries[] = {
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Optimiser steps timed per configuration (30)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads for OpenBLAS and PyTorch (1)", "N" },
    { "epoch-steps", 0, 0, G_OPTION_ARG_INT, &epoch_steps, "Steps of one epoch for the per-epoch figure (default: "
      "the shared corpus' train split, 60)", "N" },
    { NULL }
  };
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!wkp_cli_parse (ctx, "bench train", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (steps < 2 || threads < 1)
    {
      g_printerr ("wav2kp bench train: --steps must be >= 2 and --threads >= 1\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (epoch_steps <= 0)
    epoch_steps = 60;

  const char *py = "/usr/bin/python3";
  g_autofree char *script = g_build_filename (WKP_SOURCE_DIR, "tools", "torch_parity.py", NULL);
  gboolean have_torch = g_file_test (py, G_FILE_TEST_IS_EXECUTABLE) && g_file_test (script, G_FILE_TEST_EXISTS);

  g_autoptr(WkpTrainData) data = bench_data (6, 12, 75);
  struct { int hidden, layers; } configs[] = { { 96, 1 }, { 128, 2 } };
  g_print ("training step: batch 32 x window 64, MFCC 156 x context 5 = 780 inputs, 10 PCA outputs, "
           "%d steps, %d thread(s)\n", steps, threads);
  g_print ("%-10s %12s %12s %8s %14s %14s %16s\n", "LSTM", "C ms/step", "torch ms/step", "ratio",
           "C s/epoch", "torch s/epoch", "max rel loss diff");
  for (guint i = 0; i < G_N_ELEMENTS (configs); i++)
    {
      WkpTrainParams p;
      wkp_train_params_init_default (&p);
      p.hidden_size = configs[i].hidden;
      p.num_layers = configs[i].layers;
      p.n_threads = threads;
      p.steps_per_epoch = epoch_steps;
      g_autofree char *dir = g_dir_make_tmp ("wkp-bench-train-XXXXXX", NULL);
      GError *error = NULL;
      double c_sec = 0;
      if (dir == NULL || !wkp_train_parity_dump (data, &p, steps, dir, &c_sec, &error))
        {
          if (error == NULL)
            error = g_error_new_literal (WKP_TRAIN_ERROR, WKP_ERROR_IO, "cannot create a temporary folder");
          return wkp_cli_fail ("bench train", error);
        }
      double t_sec = NAN, rel = NAN;
      if (have_torch)
        {
          g_autofree char *out = NULL, *err = NULL, *thr = g_strdup_printf ("%d", threads);
          const char *args[] = { py, script, "replay", dir, "--threads", thr, NULL };
          int status = 0;
          if (g_spawn_sync (NULL, (char **) args, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL) &&
              g_spawn_check_wait_status (status, NULL))
            {
              g_autoptr(JsonParser) parser = json_parser_new ();
              if (json_parser_load_from_data (parser, out, -1, NULL))
                {
                  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
                  t_sec = json_double (o, "torch_seconds");
                  rel = json_double (o, "max_rel_loss_diff");
                }
            }
          else
            g_printerr ("wav2kp bench train: PyTorch replay failed: %s\n", err ? err : "");
        }
      /* remove the temporary files */
      {
        GDir *d = g_dir_open (dir, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name (d)))
          {
            g_autofree char *f = g_build_filename (dir, name, NULL);
            g_unlink (f);
          }
        if (d)
          g_dir_close (d);
        g_rmdir (dir);
      }
      char label[32];
      g_snprintf (label, sizeof label, "%dx%d", configs[i].layers, configs[i].hidden);
      double c_ms = 1e3 * c_sec / steps, t_ms = 1e3 * t_sec / steps;
      g_print ("%-10s %12.2f %12.2f %7.2fx %14.2f %14.2f %16.2e\n", label, c_ms, t_ms, t_ms / c_ms,
               c_ms * epoch_steps / 1e3, t_ms * epoch_steps / 1e3, rel);
    }
  if (!have_torch)
    g_print ("(PyTorch columns are NaN: /usr/bin/python3 or tools/torch_parity.py is missing)\n");
  g_print ("ratio = PyTorch time / C time (> 1: C is faster). An epoch = %d steps (+ validation, not timed here).\n",
           epoch_steps);
  return WKP_EXIT_OK;
}
