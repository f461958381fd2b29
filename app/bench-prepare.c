/* wav2kp bench prepare [SRC.csv] [--limit N] [--all]: wall time of dataset
 * preparation with --jobs 1 vs --jobs 2 (fresh output folders), and of a
 * second, fully cached run; prints the ratios. */
#include "wkp-cli.h"
#include "wkp-config.h"
#include "wkp-dataset.h"
#include "wkp-io.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void
append_csv_field (GString *s, const char *v)
{
  g_string_append_c (s, '"');
  for (const char *p = v ? v : ""; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *n;
  while (dir != NULL && (n = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, n, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static double
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Returns the wall time; *cpu receives the CPU time (all threads). */
static double
run_once (const char *csv, const char *out, int jobs, WkpPrepareReport *rep, double *cpu, GError **error)
{
  WkpPrepareParams p;
  gint64 t0;
  double c0 = cpu_seconds ();
  wkp_prepare_params_init_default (&p);
  p.n_jobs = jobs;
  t0 = g_get_monotonic_time ();
  if (!wkp_dataset_prepare (csv, out, &p, NULL, NULL, NULL, rep, error))
    return -1;
  *cpu = cpu_seconds () - c0;
  return (g_get_monotonic_time () - t0) / 1e6;
}

static double
load_average (void)
{
  double l[1] = { -1 };
  if (getloadavg (l, 1) != 1)
    return -1;
  return l[0];
}

int
wkp_bench_prepare (int argc, char **argv)
{
  g_autofree char *src_default = g_build_filename (WKP_SOURCE_DIR, "..", "shared", "data", "clips.csv", NULL);
  g_auto(GStrv) files = NULL;
  int limit = 60;
  gboolean all = FALSE;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[SRC.csv] — prepare wall time, --jobs 1 vs --jobs 2");
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GString) csv_text = g_string_new ("video,audio,speaker\n");
  g_autofree char *tmp = NULL, *csv = NULL, *out1 = NULL, *out2 = NULL;
  const char *src;
  GError *error = NULL;
  WkpPrepareReport r1, r2, r3;
  double t1 = -1, t2 = -1, t3 = -1, c1 = 0, c2 = 0, c3 = 0;
  int n_bulk = 0, n_sel = 0, n_video = 0, stride;

  {
    GOptionEntry entries_opt[] = {
      { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "Clips to prepare: every varied clip plus an even sample of the bulk speaker (default 60)", "N" },
      { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Prepare every clip of SRC (long)", NULL },
      { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
      { NULL }
    };
    g_option_context_add_main_entries (ctx, entries_opt, NULL);
  }
  if (!wkp_cli_parse (ctx, "bench prepare", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  src = files && files[0] ? files[0] : g_getenv ("WKP_SHARED_DATA") ? NULL : src_default;
  if (src == NULL)
    {
      g_autofree char *p = g_build_filename (g_getenv ("WKP_SHARED_DATA"), "clips.csv", NULL);
      files = g_new0 (char *, 2);
      files[0] = g_steal_pointer (&p);
      src = files[0];
    }
  entries = wkp_dataset_list_sources (src, &error);
  if (entries == NULL)
    return wkp_cli_fail ("bench", error);

  /* the varied clips all go in; the dominant speaker is sampled evenly */
  {
    g_autoptr(GHashTable) per_speaker = g_hash_table_new (g_str_hash, g_str_equal);
    const char *bulk = NULL;
    guint bulk_count = 0;
    for (guint i = 0; i < entries->len; i++)
      {
        WkpSourceEntry *e = entries->pdata[i];
        guint c;
        if (e->video == NULL)
          continue;
        n_video++;
        c = GPOINTER_TO_UINT (g_hash_table_lookup (per_speaker, e->speaker)) + 1;
        g_hash_table_insert (per_speaker, e->speaker, GUINT_TO_POINTER (c));
        if (c > bulk_count)
          bulk_count = c, bulk = e->speaker;
      }
    stride = all || bulk == NULL ? 1 : (int) MAX (1, bulk_count / MAX (1, limit - (n_video - (int) bulk_count)));
    for (guint i = 0; i < entries->len; i++)
      {
        WkpSourceEntry *e = entries->pdata[i];
        if (e->video == NULL)
          continue;
        if (!all && bulk != NULL && g_str_equal (e->speaker, bulk))
          {
            if (n_bulk++ % stride != 0)
              continue;
          }
        if (!all && n_sel >= limit)
          break;
        append_csv_field (csv_text, e->video);
        g_string_append_c (csv_text, ',');
        append_csv_field (csv_text, e->audio);
        g_string_append_c (csv_text, ',');
        append_csv_field (csv_text, e->speaker);
        g_string_append_c (csv_text, '\n');
        n_sel++;
      }
  }

  tmp = g_dir_make_tmp ("wkp-bench-prepare-XXXXXX", NULL);
  csv = g_build_filename (tmp, "clips.csv", NULL);
  out1 = g_build_filename (tmp, "ds-jobs1", NULL);
  out2 = g_build_filename (tmp, "ds-jobs2", NULL);
  if (!g_file_set_contents (csv, csv_text->str, -1, &error))
    return wkp_cli_fail ("bench", error);

  printf ("prepare benchmark: %d of %d video clips of %s; load average before: %.1f\n", n_sel, n_video, src,
          load_average ());
  fflush (stdout);
  t1 = run_once (csv, out1, 1, &r1, &c1, &error);
  if (t1 >= 0)
    t2 = run_once (csv, out2, 2, &r2, &c2, &error);
  if (t1 >= 0 && t2 >= 0)
    t3 = run_once (csv, out2, 2, &r3, &c3, &error);
  remove_tree (out1);
  remove_tree (out2);
  g_unlink (csv);
  g_rmdir (tmp);
  if (t1 < 0 || t2 < 0 || t3 < 0)
    return wkp_cli_fail ("bench", error);

  printf ("clips: %d ok, %d failed; %" G_GINT64_FORMAT " video frames\n", r1.n_ok, r1.n_failed, r1.n_frames);
  printf ("--jobs 1          %8.1f s  %7.1f frames/s  CPU %6.1f s (%.2f cores busy)\n", t1, r1.n_frames / t1, c1,
          c1 / t1);
  printf ("--jobs 2          %8.1f s  %7.1f frames/s  CPU %6.1f s (%.2f cores busy)  speed-up x%.2f\n", t2,
          r2.n_frames / t2, c2, c2 / t2, t1 / t2);
  printf ("second run (cached, --jobs 2) %6.2f s  = %.1f%% of the first --jobs 2 run (%d cached)\n", t3,
          100.0 * t3 / t2, r3.n_cached);
  printf ("load average after: %.1f (a speed-up needs a second idle core)\n", load_average ());
  (void) c3;
  return WKP_EXIT_OK;
}
