/* wav2kp bench lstm [--threads N] [--seconds S] [--reps R]: LSTM inference,
 * ours (OpenBLAS) vs PyTorch CPU (Debian python3-torch, spawned with
 * tools/bench_lstm_torch.py), same weights and the same input in one run:
 * a 1x128 and a 3x256 unidirectional LSTM + linear head on S seconds (default
 * 60) of default MFCC features (156 columns) at 25 fps, batch 1. Prints
 * median times, the ratio torch/ours, the multiple of real time, and checks
 * that the two outputs agree. Then the streaming latency: 10 ms chunks of
 * audio pushed through WkpModelAudioStream (features, normalisation, stacking,
 * LSTM, head). */
#include "wkp-cli.h"
#include "wkp-config.h"
#include "wkp-io.h"
#include "wkp-lstm.h"
#include "wkp-model.h"
#include "wkp-npy.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define PYTHON "/usr/bin/python3"

static void
fill_random (GRand *r, float *a, gsize n, double scale)
{
  for (gsize i = 0; i < n; i++)
    a[i] = (float) g_rand_double_range (r, -scale, scale);
}

static WkpLstm *
bench_lstm_new (GRand *r, int input, int hidden, int layers, int output)
{
  WkpLstm *l = wkp_lstm_new (input, hidden, layers, FALSE, output);
  double k = 1.0 / sqrt (hidden);   /* torch's default init range */
  for (int i = 0; i < layers; i++)
    {
      fill_random (r, l->w_ih[i][0], 4 * (gsize) hidden * wkp_lstm_layer_input (l, i), k);
      fill_random (r, l->w_hh[i][0], 4 * (gsize) hidden * hidden, k);
      fill_random (r, l->b_ih[i][0], 4 * (gsize) hidden, k);
      fill_random (r, l->b_hh[i][0], 4 * (gsize) hidden, k);
    }
  fill_random (r, l->head_w, (gsize) output * hidden, k);
  fill_random (r, l->head_b, output, k);
  return l;
}

static gboolean
save (const char *dir, const char *name, int ndim, gint64 d0, gint64 d1, const float *data, GError **error)
{
  g_autofree char *file = g_strdup_printf ("%s.npy", name);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  gint64 shape[] = { d0, d1 };
  return wkp_npy_save (path, WKP_DTYPE_F32, ndim, shape, data, error);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
cpu_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Runs torch on the same weights and input; returns median wall seconds
 * (and *cpu median CPU seconds) or -1. */
static double
run_torch (const WkpLstm *l, const float *x, gint64 T, int threads, int reps, const float *ours, double *max_rel,
           double *cpu)
{
  g_autofree char *dir = g_dir_make_tmp ("wkp-bench-lstm-XXXXXX", NULL);
  g_autofree char *script = g_build_filename (WKP_SOURCE_DIR, "tools", "bench_lstm_torch.py", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  char a_layers[16], a_hidden[16], a_threads[16], a_reps[16];
  int status = 0;
  double median = -1;

  *max_rel = -1;
  if (dir == NULL)
    return -1;
  if (!save (dir, "x", 2, T, l->input_size, x, &error))
    goto done;
  for (int i = 0; i < l->num_layers; i++)
    {
      g_autofree char *n1 = wkp_lstm_tensor_name ("weight_ih", i, 0);
      g_autofree char *n2 = wkp_lstm_tensor_name ("weight_hh", i, 0);
      g_autofree char *n3 = wkp_lstm_tensor_name ("bias_ih", i, 0);
      g_autofree char *n4 = wkp_lstm_tensor_name ("bias_hh", i, 0);
      if (!save (dir, n1, 2, 4 * l->hidden_size, wkp_lstm_layer_input (l, i), l->w_ih[i][0], &error) ||
          !save (dir, n2, 2, 4 * l->hidden_size, l->hidden_size, l->w_hh[i][0], &error) ||
          !save (dir, n3, 1, 4 * l->hidden_size, 0, l->b_ih[i][0], &error) ||
          !save (dir, n4, 1, 4 * l->hidden_size, 0, l->b_hh[i][0], &error))
        goto done;
    }
  if (!save (dir, "head.weight", 2, l->output_size, l->hidden_size, l->head_w, &error) ||
      !save (dir, "head.bias", 1, l->output_size, 0, l->head_b, &error))
    goto done;
  g_snprintf (a_layers, sizeof a_layers, "%d", l->num_layers);
  g_snprintf (a_hidden, sizeof a_hidden, "%d", l->hidden_size);
  g_snprintf (a_threads, sizeof a_threads, "%d", threads);
  g_snprintf (a_reps, sizeof a_reps, "%d", reps);
  {
    const char *argv[] = { PYTHON, script, dir, a_layers, a_hidden, "0", a_threads, a_reps, NULL };
    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error) ||
        !g_spawn_check_wait_status (status, &error))
      {
        g_printerr ("  (PyTorch baseline failed: %s%s%s)\n", error ? error->message : "", err ? "\n" : "",
                    err ? err : "");
        goto done;
      }
  }
  {
    char *end = NULL;
    median = g_ascii_strtod (out, &end);
    *cpu = g_ascii_strtod (end, NULL);
  }
  {
    g_autofree char *yp = g_build_filename (dir, "y_torch.npy", NULL);
    g_autoptr(WkpNpy) y = wkp_npy_load (yp, &error);
    double num = 0, den = 0;
    if (y != NULL && y->dtype == WKP_DTYPE_F32 && y->n_elements == T * l->output_size)
      {
        for (gint64 i = 0; i < y->n_elements; i++)
          {
            num = MAX (num, fabs (ours[i] - ((const float *) y->data)[i]));
            den = MAX (den, fabs (((const float *) y->data)[i]));
          }
        *max_rel = den > 0 ? num / den : num;
      }
  }
done:
  {
    /* remove the temporary folder */
    g_autoptr(GDir) gd = g_dir_open (dir, 0, NULL);
    const char *name;
    while (gd != NULL && (name = g_dir_read_name (gd)) != NULL)
      {
        g_autofree char *p = g_build_filename (dir, name, NULL);
        g_remove (p);
      }
    g_rmdir (dir);
  }
  return median;
}

int
wkp_bench_lstm (int argc, char **argv)
{
  int threads = 1, seconds = 60, reps = 7;
  GOptionEntry entries[] = {
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads for both (OpenBLAS / torch.set_num_threads; default 1)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Seconds of features at 25 fps (default 60)", "S" },
    { "reps", 0, 0, G_OPTION_ARG_INT, &reps, "Timed repetitions, median reported (default 7)", "R" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— LSTM inference vs PyTorch CPU, streaming latency");
  const struct { int layers, hidden; } configs[] = { { 1, 128 }, { 3, 256 } };
  g_autoptr(GRand) rng = g_rand_new_with_seed (42);
  WkpFeatureConfig fc;
  int dim, K = 20;
  gint64 T;
  gboolean have_torch;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!wkp_cli_parse (ctx, "bench lstm", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (threads < 1 || seconds < 1 || reps < 1)
    {
      g_printerr ("wav2kp bench lstm: --threads, --seconds and --reps must be positive\n");
      return WKP_EXIT_BAD_INPUT;
    }
  wkp_feature_config_init_default (&fc);
  dim = wkp_feature_config_dim (&fc);
  T = (gint64) seconds * 25;
  have_torch = g_file_test (PYTHON, G_FILE_TEST_IS_EXECUTABLE);

  printf ("LSTM inference, batch 1, %d s of features at 25 fps (T = %" G_GINT64_FORMAT " steps, %d inputs, %d outputs), "
          "%d thread%s, median of %d runs, recurrence kernel %s.\n"
          "Wall-clock and CPU time (process CPU time, all threads) are both shown: on a shared machine the CPU\n"
          "time is the steadier measure; xRT = seconds of features per second of wall time, cpuxRT per second\n"
          "of CPU time; rel diff = max |ours - torch| / max |torch| over the outputs.\n",
          seconds, T, dim, K, threads, threads > 1 ? "s" : "", reps, wkp_lstm_kernel_name ());
  printf ("%-6s %9s %9s %7s %9s %9s %7s %9s %9s %11s %9s\n", "model", "ours ms", "torch ms", "ratio", "ours cpu",
          "torch cpu", "ratio", "ours xRT", "torch xRT", "ours cpuxRT", "rel diff");
  for (guint c = 0; c < G_N_ELEMENTS (configs); c++)
    {
      g_autoptr(WkpLstm) l = bench_lstm_new (rng, dim, configs[c].hidden, configs[c].layers, K);
      g_autofree float *x = g_new (float, T * dim);
      g_autofree float *y = g_new (float, T * K);
      g_autofree double *times = g_new (double, reps), *cpus = g_new (double, reps);
      g_autoptr(GError) error = NULL;
      double ours, ours_cpu, torch = -1, torch_cpu = -1, rel = -1;
      char name[16];

      fill_random (rng, x, (gsize) T * dim, 1.5);
      if (!wkp_lstm_forward (l, x, T, y, threads, &error))   /* warm-up */
        return wkp_cli_fail ("bench", g_steal_pointer (&error));
      for (int r = 0; r < reps; r++)
        {
          gint64 t0 = g_get_monotonic_time ();
          double c0 = cpu_now ();
          wkp_lstm_forward (l, x, T, y, threads, NULL);
          times[r] = (g_get_monotonic_time () - t0) / 1e6;
          cpus[r] = cpu_now () - c0;
        }
      qsort (times, reps, sizeof (double), cmp_double);
      qsort (cpus, reps, sizeof (double), cmp_double);
      ours = times[reps / 2];
      ours_cpu = cpus[reps / 2];
      if (have_torch)
        torch = run_torch (l, x, T, threads, reps, y, &rel, &torch_cpu);
      g_snprintf (name, sizeof name, "%dx%d", configs[c].layers, configs[c].hidden);
      if (torch > 0)
        printf ("%-6s %9.1f %9.1f %6.2fx %9.1f %9.1f %6.2fx %8.0fx %8.0fx %10.0fx %9.1e\n", name, ours * 1e3,
                torch * 1e3, torch / ours, ours_cpu * 1e3, torch_cpu * 1e3, torch_cpu / ours_cpu, seconds / ours,
                seconds / torch, seconds / ours_cpu, rel);
      else
        printf ("%-6s %9.1f %9s %7s %9.1f %9s %7s %8.0fx %9s %10.0fx %9s\n", name, ours * 1e3, "n/a", "n/a",
                ours_cpu * 1e3, "n/a", "n/a", seconds / ours, "n/a", seconds / ours_cpu, "n/a");
      fflush (stdout);
    }

  /* streaming: 10 ms chunks of audio through WkpModelAudioStream */
  printf ("\nStreaming: 10 ms audio chunks (160 samples) through WkpModelAudioStream (features, normalise,\n"
          "context 2, delay 0, LSTM, head; a 25 fps frame completes every 4th chunk), %d thread%s,\n"
          "%d s of synthetic audio; compute time per push (wall clock): mean over all chunks, and median /\n"
          "p99 / max over the chunks that complete a frame; lookahead = audio needed past a frame's end\n"
          "(feature window + deltas + context) before it is output:\n", threads, threads > 1 ? "s" : "", seconds);
  printf ("%-6s %12s %12s %10s %10s %12s\n", "model", "mean us/10ms", "median us", "p99 us", "max us", "lookahead ms");
  for (guint c = 0; c < G_N_ELEMENTS (configs); c++)
    {
      g_autoptr(WkpModel) m = wkp_model_new (&fc, WKP_RATIONAL (25, 1), 2, 0, FALSE, 20, NULL, K,
                                             configs[c].hidden, configs[c].layers, FALSE);
      g_autoptr(WkpModelAudioStream) st = NULL;
      g_autoptr(GError) error = NULL;
      const int n_chunks = seconds * 100;   /* 10 ms each */
      g_autofree float *audio = g_new (float, 160 * n_chunks);
      g_autofree double *lat = g_new (double, n_chunks);
      double sum = 0;
      int n_lat = 0;
      char name[16];

      for (int i = 0; i < configs[c].layers; i++)
        {
          fill_random (rng, m->lstm->w_ih[i][0], 4 * (gsize) configs[c].hidden * wkp_lstm_layer_input (m->lstm, i), 0.05);
          fill_random (rng, m->lstm->w_hh[i][0], 4 * (gsize) configs[c].hidden * configs[c].hidden, 0.05);
        }
      for (int i = 0; i < 160 * n_chunks; i++)
        audio[i] = (float) (0.3 * sin (i * 0.07) * (0.5 + 0.5 * sin (i * 0.0015)) + g_rand_double_range (rng, -0.01, 0.01));
      st = wkp_model_audio_stream_new (m, threads, &error);
      if (st == NULL)
        return wkp_cli_fail ("bench", g_steal_pointer (&error));
      for (int i = 0; i < n_chunks; i++)
        {
          float *co = NULL;
          gint64 t0 = g_get_monotonic_time (), k;
          double dt;
          if ((k = wkp_model_audio_stream_push (st, audio + 160 * i, 160, &co, &error)) < 0)
            return wkp_cli_fail ("bench", g_steal_pointer (&error));
          dt = (double) (g_get_monotonic_time () - t0);
          sum += dt;
          if (k > 0)
            lat[n_lat++] = dt;
          g_free (co);
        }
      if (n_lat == 0)
        lat[n_lat++] = 0;
      qsort (lat, n_lat, sizeof (double), cmp_double);
      g_snprintf (name, sizeof name, "%dx%d", configs[c].layers, configs[c].hidden);
      printf ("%-6s %12.0f %12.0f %10.0f %10.0f %12d\n", name, sum / n_chunks, lat[n_lat / 2], lat[n_lat * 99 / 100],
              lat[n_lat - 1], (wkp_model_audio_stream_lag (st) + 2) * 40);
    }
  return WKP_EXIT_OK;
}
