/* wav2kp evaluate DATASET [--model A --model B ...] [--split S] [--csv F] [--json F] [--plot DIR]
 *
 * Compares models (and landmark-track folders) with the dataset's reference
 * landmarks and with two baselines; prints a table, optionally writes CSV,
 * JSON and plots. The metric definitions are in engine/wkp-metrics.h. */
#include "wkp-cli.h"

#include "wkp-dataset.h"
#include "wkp-error.h"
#include "wkp-evaluate.h"
#include "wkp-io.h"
#include "wkp-plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *head;
  gboolean    higher_is_better;
  gboolean    landmark;   /* undefined for aperture-only entries */
  gboolean    nearest_one; /* best: the closest to 1 */
} Column;

static const Column columns[] = {
  { "LMD mouth", FALSE, TRUE },
  { "LMD face", FALSE, TRUE },
  { "LVD mouth", FALSE, TRUE },
  { "LVE", FALSE, TRUE },
  { "aperture r", TRUE, FALSE },
  { "ap. RMSE", FALSE, FALSE },
  { "ap. motion", FALSE, FALSE, TRUE },
};
#define N_COLUMNS G_N_ELEMENTS (columns)

static void
column_values (const WkpMetrics *m, double *v)
{
  v[0] = m->lmd_mouth;
  v[1] = m->lmd_face;
  v[2] = m->lvd_mouth;
  v[3] = m->lve;
  v[4] = m->aperture_r;
  v[5] = m->aperture_rmse;
  v[6] = m->aperture_motion;
}

static gboolean
better (const Column *c, double v, double best)
{
  if (!isfinite (best))
    return TRUE;
  if (c->nearest_one)
    return fabs (log (v)) < fabs (log (best));   /* 0.5 and 2 are as far from 1 */
  return c->higher_is_better ? v > best : v < best;
}

static void
print_table (const WkpEvaluation *ev, int bootstrap)
{
  double best[N_COLUMNS];
  int label_w = 5;
  gint64 frames = 0, ref_missing = 0;
  const char *split = ev->split == WKP_SPLIT_NONE ? "all" : wkp_split_to_string (ev->split);

  for (int c = 0; c < ev->n_clips; c++)
    frames += ev->clip_frames[c];
  for (guint k = 0; k < N_COLUMNS; k++)
    best[k] = NAN;
  for (int e = 0; e < ev->n_entries; e++)
    {
      const WkpEvalEntry *entry = &ev->entries[e];
      double v[N_COLUMNS];
      label_w = MAX (label_w, (int) MIN (g_utf8_strlen (entry->label, -1), 44));
      if (entry->problem != NULL)
        continue;
      ref_missing = entry->pooled.n_ref_missing;
      if (wkp_eval_kind_is_oracle (entry->kind) || entry->missing != NULL)
        continue;   /* bounds that read the reference, or scores on fewer clips: never "best" */
      column_values (&entry->pooled, v);
      for (guint k = 0; k < N_COLUMNS; k++)
        if (isfinite (v[k]) && (!columns[k].nearest_one || v[k] > 0) && better (&columns[k], v[k], best[k]))
          best[k] = v[k];
    }

  {
    g_autofree char *who = ev->speakers != NULL ? g_strjoinv (", ", ev->speakers) : NULL;
    printf ("Evaluation of %s, %s split%s%s: %d clip%s, %" G_GINT64_FORMAT " frames, %" G_GINT64_FORMAT
            " without reference landmarks (excluded)\n\n", ev->dataset, split, who != NULL ? ", speakers " : "",
            who != NULL ? who : "", ev->n_clips, ev->n_clips == 1 ? "" : "s", frames, ref_missing);
  }
  printf ("%-*s %9s", label_w, "model", "compared");
  for (guint k = 0; k < N_COLUMNS; k++)
    printf (" %11s", columns[k].head);
  printf ("  %s\n", "best lag (r)");

  for (int e = 0; e < ev->n_entries; e++)
    {
      const WkpEvalEntry *entry = &ev->entries[e];
      g_autofree char *label = g_utf8_strlen (entry->label, -1) > 44
                               ? g_strconcat ("...", g_utf8_offset_to_pointer (entry->label, g_utf8_strlen (entry->label, -1) - 41), NULL)
                               : g_strdup (entry->label);
      int pad = label_w - (int) g_utf8_strlen (label, -1);
      double v[N_COLUMNS];

      printf ("%s%*s", label, MAX (pad, 0), "");
      if (entry->problem != NULL)
        {
          printf ("  %s\n", entry->problem);
          continue;
        }
      printf (" %9" G_GINT64_FORMAT, entry->pooled.n_compared);
      column_values (&entry->pooled, v);
      for (guint k = 0; k < N_COLUMNS; k++)
        {
          if (!isfinite (v[k]))
            printf (" %10s ", "n/a");
          else
            printf (" %10.4f%s", v[k],
                    v[k] == best[k] && !wkp_eval_kind_is_oracle (entry->kind) && entry->missing == NULL ? "*" : " ");
        }
      if (isfinite (entry->pooled.best_lag_r))
        /* at the edge of the range searched, the best lag may lie beyond it */
        printf ("  %s%+d (%.3f)", ABS (entry->pooled.best_lag) == ev->max_lag ? (entry->pooled.best_lag > 0 ? ">=" : "<=") : "",
                entry->pooled.best_lag, entry->pooled.best_lag_r);
      else
        printf ("  n/a");
      printf ("\n");
    }
  printf ("\n* best in column. LMD, LVD (per frame), LVE and aperture RMSE in inter-ocular distances, lower is\n"
          "better; aperture r is Pearson at lag 0, higher is better; best lag within +/-%d frames, > 0 means the\n"
          "prediction is late (>=/<=: at the edge of that range, the offset may be larger; `wav2kp check`\n"
          "estimates offsets up to 10 frames); aperture motion is the predicted aperture's standard deviation\n"
          "over the extracted one's, 1 = as much opening and closing, 0 = a still mouth, best nearest 1.\n"
          "n/a: undefined (aperture-only baseline, or a constant aperture).\n", ev->max_lag);
  for (int e = 0; e < ev->n_entries; e++)
    if (ev->entries[e].note != NULL)
      printf ("Note: %s\n", ev->entries[e].note);
  for (int e = 0; e < ev->n_entries; e++)
    if (ev->entries[e].missing != NULL && ev->entries[e].problem == NULL)
      {
        g_autofree char *which = g_strjoinv (", ", ev->entries[e].missing);
        guint n = g_strv_length (ev->entries[e].missing);
        printf ("Not all clips: %s has no track for %u of the %d clips (%s): it is scored on the others, so its\n"
                "numbers do not compare with the other rows' (no \"best\" marks).\n", ev->entries[e].label, n,
                ev->n_clips, which);
      }
  for (int e = 0; e < ev->n_entries; e++)
    if (ev->entries[e].trained_on != NULL && ev->entries[e].problem == NULL)
      {
        g_autofree char *who = g_strjoinv (", ", ev->entries[e].trained_on);
        guint n = g_strv_length (ev->entries[e].trained_on);
        printf ("Not held out: %s was trained on %u of the evaluated speakers (%s):\n"
                "its numbers on %s clips are not a held-out score.\n", ev->entries[e].label, n, who, n == 1 ? "that speaker's" : "their");
      }
  for (int e = 0; e < ev->n_entries; e++)
    if (ev->entries[e].validated_on != NULL && ev->entries[e].problem == NULL)
      {
        g_autofree char *who = g_strjoinv (", ", ev->entries[e].validated_on);
        guint n = g_strv_length (ev->entries[e].validated_on);
        printf ("Validated on: %s chose its best epoch on %u of the evaluated speakers (%s):\n"
                "its numbers on %s clips are somewhat optimistic (compare models on the test split).\n",
                ev->entries[e].label, n, who, n == 1 ? "that speaker's" : "their");
      }
  for (int e = 0; e < ev->n_entries; e++)
    if (ev->entries[e].kind == WKP_EVAL_ORACLE_MOTION)
      {
        printf ("Oracles read the reference and bound what models can reach: \"reference motion, mean level\" is\n"
                "each clip's reference minus its clip mean plus the dataset's mean face (a perfect identity-removed\n"
                "model); \"reference level, no motion\" is each clip's mean reference face, held constant.\n");
        break;
      }
  if (ev->n_bootstrap == 0 && bootstrap > 0 && ev->n_clips == 1)
    /* (the section was left out without a word) */
    printf ("\nNo uncertainty intervals: resampling clips needs at least 2 clips, and 1 was scored.\n");
  if (ev->n_bootstrap > 0)
    {
      printf ("\nUncertainty over clips (95%% intervals, %d bootstrap resamples of the %d clips):\n",
              ev->n_bootstrap, ev->n_clips);
      for (int e = 0; e < ev->n_entries; e++)
        {
          const WkpEvalEntry *entry = &ev->entries[e];
          g_autoptr(GString) line = NULL;
          if (entry->problem != NULL)
            continue;
          line = g_string_new (NULL);
          g_string_append_printf (line, "  %s:", entry->label);
          /* no interval for an undefined point value (a constant prediction's r) */
          if (isfinite (entry->aperture_r_ci[0]) && isfinite (entry->pooled.aperture_r))
            g_string_append_printf (line, " aperture r %.3f [%.3f, %.3f]", entry->pooled.aperture_r,
                                    entry->aperture_r_ci[0], entry->aperture_r_ci[1]);
          if (isfinite (entry->lmd_mouth_ci[0]))
            g_string_append_printf (line, "%s LMD mouth %.4f [%.4f, %.4f]",
                                    isfinite (entry->aperture_r_ci[0]) && isfinite (entry->pooled.aperture_r) ? "," : "",
                                    entry->pooled.lmd_mouth,
                                    entry->lmd_mouth_ci[0], entry->lmd_mouth_ci[1]);
          if (isfinite (entry->r_above_energy))
            g_string_append_printf (line, "; r above the energy baseline in %.1f%%", 100.0 * entry->r_above_energy);
          if (isfinite (entry->lmd_below_mean_face))
            g_string_append_printf (line, "%s mouth LMD below the mean face in %.1f%%",
                                    isfinite (entry->r_above_energy) ? "," : ";", 100.0 * entry->lmd_below_mean_face);
          if (isfinite (entry->r_above_energy) || isfinite (entry->lmd_below_mean_face))
            g_string_append (line, " of resamples");
          printf ("%s\n", line->str);
        }
      if (ev->n_comparisons > 0)
        printf ("\nModel against model (the same resamples; b minus a, 95%% intervals):\n");
      for (int k = 0; k < ev->n_comparisons; k++)
        {
          const WkpEvalComparison *c = &ev->comparisons[k];
          const char *a = ev->entries[c->a].label, *b = ev->entries[c->b].label;
          g_autoptr(GString) line = g_string_new (NULL);
          g_string_append_printf (line, "  %s vs %s:", b, a);
          if (c->r_diff_ci[0] == 0 && c->r_diff_ci[1] == 0 && c->lmd_diff_ci[0] == 0 && c->lmd_diff_ci[1] == 0)
            {
              printf ("%s the same numbers in every resample\n", line->str);
              continue;
            }
          if (isfinite (c->r_diff) && isfinite (c->r_diff_ci[0]))
            g_string_append_printf (line, " aperture r %+.3f [%+.3f, %+.3f], higher in %.1f%%", c->r_diff,
                                    c->r_diff_ci[0], c->r_diff_ci[1], 100.0 * c->b_r_higher);
          if (isfinite (c->lmd_diff) && isfinite (c->lmd_diff_ci[0]))
            g_string_append_printf (line, "%s LMD mouth %+.4f [%+.4f, %+.4f], lower in %.1f%%",
                                    isfinite (c->r_diff) && isfinite (c->r_diff_ci[0]) ? ";" : "", c->lmd_diff,
                                    c->lmd_diff_ci[0], c->lmd_diff_ci[1], 100.0 * c->b_lmd_lower);
          g_string_append (line, " of resamples");
          printf ("%s\n", line->str);
        }
      if (ev->n_comparisons > 0)
        printf ("  An interval that excludes 0 (or a share near 0%% or 100%%) means the difference holds across\n"
                "  these clips; it says nothing of clips unlike them.\n");
    }
  for (int e = 0; e < ev->n_entries; e++)
    if (ev->entries[e].kind == WKP_EVAL_ENERGY && ev->entries[e].problem == NULL)
      {
        g_autofree char *excluded =
          ev->energy_fit_excluded_clips > 0
            ? g_strdup_printf (" (without the evaluated speakers' %d train clip%s)", ev->energy_fit_excluded_clips,
                               ev->energy_fit_excluded_clips == 1 ? "" : "s")
            : g_strdup ("");
        printf ("Energy baseline: aperture = %.5f * dB %+.4f, fitted on %" G_GINT64_FORMAT " train-split frames%s.\n",
                ev->energy_slope, ev->energy_intercept, ev->energy_fit_frames, excluded);
      }
}

static void
print_per_clip (const WkpEvaluation *ev)
{
  /* the speaker column as wide as its longest name, up to 24 (names were cut
   * at 14: "retalking_face", "lrw_sample_vid") */
  glong sw = 7;
  for (int c = 0; c < ev->n_clips; c++)
    if (ev->clip_speaker[c] != NULL)
      sw = MAX (sw, MIN (g_utf8_strlen (ev->clip_speaker[c], -1), 24));
  printf ("\nPer clip: aperture r / LMD mouth (frames compared)\n");
  printf ("%-36s %-*s", "clip", (int) sw, "speaker");
  for (int e = 0; e < ev->n_entries; e++)
    if (ev->entries[e].problem == NULL)
      {
        gboolean cut = g_utf8_strlen (ev->entries[e].label, -1) > 24;
        g_autofree char *start = cut ? g_utf8_substring (ev->entries[e].label, 0, 21) : NULL;
        g_autofree char *head = cut ? g_strconcat (start, "...", NULL) : g_strdup (ev->entries[e].label);
        printf ("  %-24s", head);
      }
  printf ("\n");
  for (int c = 0; c < ev->n_clips; c++)
    {
      g_auto(GStrv) parts = g_strsplit (ev->clip_name[c], "/", -1);
      guint np = g_strv_length (parts);
      g_autofree char *name = np >= 2 ? g_strjoin ("/", parts[np - 2], parts[np - 1], NULL) : g_strdup (ev->clip_name[c]);
      wkp_cli_print_cell (name, 36, TRUE);
      putchar (' ');
      wkp_cli_print_cell (ev->clip_speaker[c] != NULL ? ev->clip_speaker[c] : "", sw, FALSE);
      for (int e = 0; e < ev->n_entries; e++)
        {
          const WkpMetrics *m = &ev->entries[e].clips[c];
          char r[16], lmd[16], cell[64];
          if (ev->entries[e].problem != NULL)
            continue;
          if (isfinite (m->aperture_r))
            g_snprintf (r, sizeof r, "%.3f", m->aperture_r);
          else
            g_strlcpy (r, "n/a", sizeof r);
          if (isfinite (m->lmd_mouth))
            g_snprintf (lmd, sizeof lmd, "%.4f", m->lmd_mouth);
          else
            g_strlcpy (lmd, "n/a", sizeof lmd);
          g_snprintf (cell, sizeof cell, "%s / %s (%" G_GINT64_FORMAT ")", r, lmd, m->n_compared);
          printf ("  %-24s", cell);
        }
      printf ("\n");
    }
}

int
wkp_cli_evaluate (int argc, char **argv)
{
  g_auto(GStrv) models = NULL;
  g_autofree char *split_text = NULL, *csv = NULL, *json = NULL, *plot = NULL, *speakers_text = NULL;
  int n_removed = 0;
  gboolean json_stdout;
  g_auto(GStrv) speakers = NULL;
  gboolean no_baselines = FALSE, per_clip = FALSE, oracles = FALSE;
  int threads = 1, max_lag = WKP_METRICS_MAX_LAG, n_bootstrap = 1000;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &models,
      "Model file (.wkpm) or folder of landmark tracks (one per clip); repeat to compare. Default: the shipped model", "FILE" },
    { "split", 's', 0, G_OPTION_ARG_STRING, &split_text, "train, val, test or all (default: test)", "SPLIT" },
    { "speakers", 0, 0, G_OPTION_ARG_STRING, &speakers_text,
      "Only these speakers' clips of the split (comma-separated; with train --val-speakers: speaker cross-validation)", "A,B" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Write per-clip and pooled results as CSV", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write per-clip and pooled results as JSON (-: on standard output, instead of the table)", "FILE" },
    { "plot", 0, 0, G_OPTION_ARG_FILENAME, &plot, "Write SVG+PNG plots (aperture per clip, summary) into DIR", "DIR" },
    { "per-clip", 0, 0, G_OPTION_ARG_NONE, &per_clip, "Also print each clip's aperture r and mouth LMD per model", NULL },
    { "no-baselines", 0, 0, G_OPTION_ARG_NONE, &no_baselines, "Skip the mean-face and audio-energy baselines", NULL },
    { "oracles", 0, 0, G_OPTION_ARG_NONE, &oracles,
      "Add two bounds that read the reference: its motion at the mean face's level, and its clip level without motion", NULL },
    { "bootstrap", 0, 0, G_OPTION_ARG_INT, &n_bootstrap, "Resamples of the clips for 95% intervals (default 1000, 0: none)", "N" },
    { "max-lag", 0, 0, G_OPTION_ARG_INT, &max_lag, "Best-lag search range in frames (default 3)", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads for model inference (default 1)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("DATASET");
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(WkpEvaluation) ev = NULL;
  g_autoptr(WkpCliProgress) progress = NULL;
  g_autoptr(WkpOutput) out = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  WkpSplit split = WKP_SPLIT_TEST;
  WkpEvalParams params;

  g_option_context_set_summary (ctx,
    "Evaluates models against the reference landmarks of a prepared dataset (wav2kp prepare)\n"
    "and against two baselines (constant mean face; audio energy mapped to the lip aperture).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!wkp_cli_parse (ctx, "evaluate", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (argc != 2)
    return wkp_cli_fail ("evaluate", g_error_new_literal (WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                                                          argc < 2 ? "missing DATASET (see --help)"
                                                                   : "expected exactly one DATASET"));
  if (split_text != NULL && strcmp (split_text, "all") == 0)
    split = WKP_SPLIT_NONE;
  else if (split_text != NULL && (!wkp_split_from_string (split_text, &split) || split == WKP_SPLIT_NONE))
    return wkp_cli_fail ("evaluate", g_error_new (WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                                                  "unknown split “%s” (train, val, test or all)", split_text));
  if (speakers_text != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (speakers_text, ",", -1);
      g_autoptr(GPtrArray) unique = g_ptr_array_new ();
      for (int i = 0; parts[i] != NULL; i++)
        {
          g_strstrip (parts[i]);
          if (!g_ptr_array_find_with_equal_func (unique, parts[i], g_str_equal, NULL))
            g_ptr_array_add (unique, parts[i]);   /* a name given twice is scored once */
        }
      g_ptr_array_add (unique, NULL);
      speakers = g_strdupv ((char **) unique->pdata);
      if (speakers[0] == NULL || g_strv_contains ((const char * const *) speakers, ""))
        return wkp_cli_fail ("evaluate", g_error_new_literal (WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                                                              "--speakers needs comma-separated speaker names"));
    }
  if (threads < 1 || threads > 64)
    return wkp_cli_fail ("evaluate", g_error_new_literal (WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                                                          "--threads must be in 1..64"));
  if (max_lag < 0 || max_lag > 50)
    return wkp_cli_fail ("evaluate", g_error_new_literal (WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                                                          "--max-lag must be in 0..50"));
  if (n_bootstrap < 0 || n_bootstrap > 100000)
    return wkp_cli_fail ("evaluate", g_error_new_literal (WKP_METRICS_ERROR, WKP_ERROR_INVALID,
                                                          "--bootstrap must be in 0..100000"));
  /* --json -: the report alone on standard output, as check --json - (the
   * table goes) */
  json_stdout = g_strcmp0 (json, "-") == 0;
  if (json_stdout && per_clip)
    {
      g_printerr ("wav2kp evaluate: --per-clip prints a table, which --json - replaces (the report has every clip)\n");
      return WKP_EXIT_BAD_INPUT;
    }
  /* fail early on outputs that cannot be written */
  if ((csv != NULL && !wkp_cli_check_suffix ("evaluate", csv, "a CSV table", ".csv"))
      || (json != NULL && !json_stdout && !wkp_cli_check_suffix ("evaluate", json, "a JSON report", ".json")))
    return WKP_EXIT_BAD_INPUT;
  if ((csv != NULL && !wkp_check_output_path (csv, &error))
      || (json != NULL && !json_stdout && !wkp_check_output_path (json, &error)))
    return wkp_cli_fail ("evaluate", g_steal_pointer (&error));
  if (csv != NULL && json != NULL && !json_stdout)
    {
      /* one would overwrite the other */
      g_autofree char *c1 = g_canonicalize_filename (csv, NULL), *c2 = g_canonicalize_filename (json, NULL);
      if (g_str_equal (c1, c2) || wkp_path_same_file (csv, json))
        return wkp_cli_fail ("evaluate", g_error_new (WKP_IO_ERROR, WKP_ERROR_INVALID,
                                                      "--csv %s and --json %s would be the same file", csv, json));
    }
  if (plot != NULL)
    {
      g_autofree char *parent = g_path_get_dirname (plot);
      if (g_file_test (plot, G_FILE_TEST_EXISTS) && !g_file_test (plot, G_FILE_TEST_IS_DIR))
        return wkp_cli_fail ("evaluate", g_error_new (WKP_IO_ERROR, WKP_ERROR_INVALID,
                                                      "--plot %s exists and is not a folder", plot));
      if (!g_file_test (plot, G_FILE_TEST_IS_DIR) && !g_file_test (parent, G_FILE_TEST_IS_DIR))
        return wkp_cli_fail ("evaluate", g_error_new (WKP_IO_ERROR, WKP_ERROR_NOT_FOUND,
                                                      "cannot create --plot %s: folder %s does not exist", plot, parent));
    }

  if (models == NULL || models[0] == NULL)
    {
      char *path = wkp_cli_default_model (&error);
      if (path == NULL)
        return wkp_cli_fail ("evaluate", g_steal_pointer (&error));
      g_ptr_array_add (paths, path);
    }
  else
    for (int i = 0; models[i] != NULL; i++)
      {
        /* the same file twice gave two identical rows and no comparison,
         * without a word (as ensemble refuses it) */
        for (int j = 0; j < i; j++)
          if (wkp_path_same_file (models[i], models[j]))
            return wkp_cli_fail ("evaluate", g_error_new (WKP_IO_ERROR, WKP_ERROR_INVALID,
                                                          "%s and %s are the same model file; give each model once",
                                                          models[j], models[i]));
        g_ptr_array_add (paths, g_strdup (models[i]));
      }

  ds = wkp_dataset_open (argv[1], &error);
  if (ds == NULL)
    return wkp_cli_fail ("evaluate", g_steal_pointer (&error));

  wkp_eval_params_init_default (&params);
  params.baselines = !no_baselines;
  params.oracles = oracles;
  params.n_threads = threads;
  params.max_lag = max_lag;
  params.bootstrap = n_bootstrap;
  params.speakers = (const char * const *) speakers;
  progress = wkp_cli_progress_new ("evaluate");
  ev = wkp_evaluate (ds, split, (const char * const *) paths->pdata, paths->len, &params,
                     wkp_cli_progress_update, progress, NULL, &error);
  g_clear_pointer (&progress, wkp_cli_progress_free);
  if (ev == NULL)
    return wkp_cli_fail ("evaluate", g_steal_pointer (&error));

  if (!json_stdout)
    {
      print_table (ev, n_bootstrap);
      if (per_clip)
        print_per_clip (ev);
    }

  out = wkp_output_new ();
  if (csv != NULL)
    {
      g_autoptr(GBytes) bytes = wkp_evaluation_to_csv (ev);
      if (!wkp_output_add_bytes (out, csv, bytes, &error))
        return wkp_cli_fail ("evaluate", g_steal_pointer (&error));
    }
  if (json != NULL && !json_stdout)
    {
      g_autoptr(JsonNode) node = wkp_evaluation_to_json (ev);
      if (!wkp_output_add_json (out, json, node, &error))
        return wkp_cli_fail ("evaluate", g_steal_pointer (&error));
    }
  if (plot != NULL)
    {
      gboolean plotted = wkp_evaluation_plot (ev, plot, &n_removed, &error);
      wkp_plot_release_caches ();
      if (!plotted)
        return wkp_cli_fail ("evaluate", g_steal_pointer (&error));
    }
  if (!wkp_output_commit (out, &error))
    return wkp_cli_fail ("evaluate", g_steal_pointer (&error));
  if (json_stdout)
    {
      g_autoptr(JsonNode) node = wkp_evaluation_to_json (ev);
      g_autofree char *text = wkp_json_to_string (node, TRUE);
      printf ("%s\n", text);
    }
  if (plot != NULL)
    {
      FILE *to = json_stdout ? stderr : stdout;
      fprintf (to, "Plots: %s/summary.png and %d per-clip aperture plot%s (SVG + PNG)\n", plot, ev->n_clips,
               ev->n_clips == 1 ? "" : "s");
      if (n_removed > 0)
        fprintf (to, "  removed %d older per-clip plot file%s there that this run did not write\n", n_removed,
                 n_removed == 1 ? "" : "s");
    }
  return WKP_EXIT_OK;
}
