/* wav2kp check DATASET [--json OUT|-]: the alignment and quality checks of a
 * prepared dataset. */
#include "wkp-cli.h"
#include "wkp-dataset.h"
#include "wkp-evaluate.h"
#include "wkp-io.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int
damaged_exit (const char *dataset, int n_damaged)
{
  g_printerr ("wav2kp check: %s: %d clip folder(s) damaged; run “wav2kp prepare” on the same source again to "
              "recompute them\n", dataset, n_damaged);
  return WKP_EXIT_BAD_INPUT;
}

static glong
utf8_width (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  return g_utf8_strlen (valid, -1);
}

/* Runs MODEL on every OK clip (as evaluate does) and fills @out [n_clips]
 * with its opinion of each clip's timing (wkp_timing_opinion). */
static gboolean
model_opinions (const WkpDataset *ds, const char *model, int threads, WkpTimingOpinion *out, GError **error)
{
  WkpEvalParams params;
  g_autoptr(WkpCliProgress) progress = NULL;
  WkpEvaluation *ev;
  const char *paths[] = { model };
  const int max_lag = wkp_timing_max_lag (ds);

  wkp_eval_params_init_default (&params);
  params.baselines = FALSE;
  params.bootstrap = 0;
  params.n_threads = threads;
  progress = wkp_cli_progress_new ("check");
  ev = wkp_evaluate (ds, WKP_SPLIT_NONE, paths, 1, &params, wkp_cli_progress_update, progress, NULL, error);
  g_clear_pointer (&progress, wkp_cli_progress_free);
  if (ev == NULL)
    return FALSE;
  if (ev->n_entries < 1 || ev->entries[0].problem != NULL)
    {
      g_set_error (error, WKP_IO_ERROR, WKP_ERROR_INVALID, "%s: %s", model,
                   ev->n_entries < 1 ? "not evaluated" : ev->entries[0].problem);
      wkp_evaluation_free (ev);
      return FALSE;
    }
  for (int c = 0; c < ev->n_clips; c++)
    {
      const WkpDatasetClip *clip = wkp_dataset_get_clip (ds, ev->clip_index[c]);
      if (ev->entries[0].aperture[c] != NULL)
        wkp_timing_opinion (ev->ref_aperture[c], ev->entries[0].aperture[c], ev->clip_frames[c], max_lag,
                            clip->offset_frames - clip->offset_applied, &out[ev->clip_index[c]]);
    }
  wkp_evaluation_free (ev);
  return TRUE;
}

/* The opinions into check's JSON report: "model" at the top, and per clip
 * "model_lag", "model_r0", "model_r_lag" and "model_disputes" (clips are in
 * the dataset's order there, as in the table). */
static void
add_opinions_json (JsonNode *node, const WkpDataset *ds, const char *model, const WkpTimingOpinion *opinion)
{
  JsonObject *root = json_node_get_object (node);
  JsonArray *clips = json_object_has_member (root, "clips") ? json_object_get_array_member (root, "clips") : NULL;
  json_object_set_string_member (root, "model", model);
  for (guint i = 0; clips != NULL && i < json_array_get_length (clips) && (int) i < wkp_dataset_n_clips (ds); i++)
    {
      JsonObject *o = json_array_get_object_element (clips, i);
      const WkpTimingOpinion *m = &opinion[i];
      if (!m->known)
        continue;
      json_object_set_int_member (o, "model_lag", m->lag);
      if (isfinite (m->r0))
        json_object_set_double_member (o, "model_r0", m->r0);
      else
        json_object_set_null_member (o, "model_r0");
      json_object_set_double_member (o, "model_r_lag", m->r_lag);
      json_object_set_boolean_member (o, "model_disputes", wkp_timing_disputes (wkp_dataset_get_clip (ds, (int) i), m));
    }
}

/* A table row's first columns: the clip (its end kept), the speaker, the split. */
static void
print_lead (const char *name, int w, const char *speaker, int sw, const char *split)
{
  wkp_cli_print_cell (name, w, TRUE);
  putchar (' ');
  wkp_cli_print_cell (speaker != NULL ? speaker : "", sw, FALSE);
  printf (" %-5s", split);
}

int
wkp_cli_check (int argc, char **argv)
{
  g_autofree char *json_out = NULL, *model = NULL;
  g_auto(GStrv) files = NULL;
  gboolean all = FALSE;
  int threads = 0, n_moved = 0, n_skipped = 0, n_disputed = 0, n_disputed_fixed = 0, n_agree = 0, n_judged = 0;
  g_autofree WkpTimingOpinion *opinion = NULL;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— alignment and quality checks of a prepared dataset");
  g_autoptr(WkpDataset) ds = NULL;
  g_autoptr(GPtrArray) damage = NULL;
  g_auto(GStrv) short_names = NULL;
  int w = 4, sw = 7;
  GError *error = NULL;
  int n_flagged = 0, n_failed = 0, n_ok = 0, n_damaged = 0, n_unsure_shown = 0;
  int per_flag[7] = { 0 };
  int first_offset = -1;   /* the first clip flagged offset whose sound was not moved */

  {
    GOptionEntry entries[] = {
      { "json", 0, 0, G_OPTION_ARG_FILENAME, &json_out, "Write every clip's name, offset, confidence and flags as JSON (“-”: stdout)", "OUT" },
      { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "List every clip, not only flagged ones", NULL },
      { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model, "A second opinion on each clip's timing: the lag at which this model's predicted mouth fits the landmarks best", "MODEL" },
      { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads for --model's inference (default 1)", "N" },
      { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "DATASET" },
      { NULL }
    };
    g_option_context_add_main_entries (ctx, entries, NULL);
  }
  g_option_context_set_description (ctx,
    "offset: audio/video offset in video frames from cross-correlating the speech-band\n"
    "(300-3000 Hz) log energy with the inner-lip aperture over ±max-lag frames\n"
    "(> 0: the audio lags the picture). conf: how far the peak correlation stands above\n"
    "correlations of the tracks shifted far apart (z; 0 at z <= 2, 1 at z >= 5).\n"
    "gain: peak correlation minus the correlation at lag 0.\n"
    "Flags: offset (|offset| >= 2, conf >= 0.2, gain >= 0.08 by default), offset-unsure\n"
    "(too little A/V correlation to tell), low-face-rate, length-mismatch (audio vs video),\n"
    "audio-inverted (a channel in antiphase with the first was inverted before the mono mix),\n"
    "irregular-timing (the video's frame timestamps stray from a constant rate by more than a\n"
    "quarter frame: a variable frame rate or dropped frames; read by the timestamps on that\n"
    "grid, so frame k is the picture on screen at k/fps and some pictures repeat or drop),\n"
    "low-audio-rate (the sound was sampled below 16 kHz, e.g. 8 kHz telephone audio: the\n"
    "features' upper bands read silence).\n"
    "--model M adds a second opinion: the lag (same sign) at which M's inner-lip aperture,\n"
    "predicted from the clip's sound, correlates best with the landmarks' (over the same\n"
    "range), with r at lag 0 and at that lag. \"disputed\": a flagged offset that M's lag is 3\n"
    "or more frames from, M fitting by at least 0.1 in r better there than at the offset. A model's\n"
    "lag wanders by 1-2 frames between clips, and it is a guess on speakers it fits badly.");
  if (!wkp_cli_parse (ctx, "check", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (files == NULL || files[0] == NULL || files[1] != NULL)
    {
      g_printerr ("wav2kp check: give exactly one DATASET folder\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (json_out != NULL && g_strcmp0 (json_out, "-") != 0
      && !wkp_cli_check_suffix ("check", json_out, "a JSON report", ".json"))
    return WKP_EXIT_BAD_INPUT;
  if (json_out != NULL && g_strcmp0 (json_out, "-") != 0 && !wkp_check_output_path (json_out, &error))
    return wkp_cli_fail ("check", error);
  if (threads != 0 && model == NULL)
    {
      g_printerr ("wav2kp check: --threads is for --model's inference; give --model MODEL too\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (threads == 0)
    threads = 1;
  if (threads < 1 || threads > 256)
    {
      g_printerr ("wav2kp check: --threads must be 1..256\n");
      return WKP_EXIT_BAD_INPUT;
    }
  ds = wkp_dataset_open (files[0], &error);
  if (ds == NULL)
    return wkp_cli_fail ("check", error);

  /* every clip's arrays are read once, for the JSON report and the table */
  damage = wkp_dataset_verify_all (ds, &n_damaged);

  if (model != NULL)
    {
      /* (a damaged clip fails the model's run; the table says which) */
      if (n_damaged > 0)
        g_printerr ("wav2kp check: note: --model left out: %d clip folder%s damaged (run prepare again, then "
                    "check --model)\n", n_damaged, n_damaged == 1 ? " is" : "s are");
      else
        {
          opinion = g_new0 (WkpTimingOpinion, MAX (wkp_dataset_n_clips (ds), 1));
          if (!model_opinions (ds, model, threads, opinion, &error))
            return wkp_cli_fail ("check", error);
        }
    }

  /* The JSON report is complete even for a damaged dataset (each damaged clip
   * says why), so it is written; the exit status is 2 either way, as for the
   * table. */
  if (json_out != NULL)
    {
      g_autoptr(JsonNode) node = wkp_dataset_check_json (ds, damage);
      if (opinion != NULL)
        add_opinions_json (node, ds, model, opinion);
      if (g_strcmp0 (json_out, "-") == 0)
        {
          g_autofree char *text = wkp_json_to_string (node, TRUE);
          printf ("%s\n", text);
          return n_damaged > 0 ? damaged_exit (files[0], n_damaged) : WKP_EXIT_OK;
        }
      else
        {
          g_autoptr(GBytes) bytes = wkp_json_to_bytes (node);
          if (!wkp_write_file_atomic (json_out, bytes, &error))
            return wkp_cli_fail ("check", error);
        }
    }

  /* each clip by the shortest tail of its path that tells it from the others
   * (the full paths are in --json); a longer one keeps its end */
  short_names = wkp_dataset_short_names (ds);
  /* (columns in characters, not bytes: names in other scripts kept them out of line) */
  for (int i = 0; short_names[i] != NULL; i++)
    {
      const WkpDatasetClip *c = wkp_dataset_get_clip (ds, i);
      w = MAX (w, (int) MIN (utf8_width (short_names[i]), 58));
      sw = MAX (sw, (int) MIN (utf8_width (c->speaker), 32));
    }
  print_lead ("clip", w, "speaker", sw, "split");
  printf (" %6s %5s %5s %5s %6s %6s", "offset", "conf", "gain", "face", "audio", "video");
  if (opinion != NULL)
    printf ("  %5s %5s %5s", "model", "r@0", "r@lag");
  printf ("  %s\n", "flags");
  for (int i = 0; i < wkp_dataset_n_clips (ds); i++)
    {
      const WkpDatasetClip *c = wkp_dataset_get_clip (ds, i);
      g_autofree char *flags = wkp_clip_flags_to_string (c->flags);
      const char *name = short_names[i];
      if (g_ptr_array_index (damage, i) != NULL)
        {
          print_lead (name, w, c->speaker, sw, wkp_split_to_string (c->split));
          printf (" %6s %5s %5s %5s %6s %6s  damaged: %s\n", "-", "-", "-", "-", "-", "-",
                  (const char *) g_ptr_array_index (damage, i));
          continue;
        }
      if (c->status == WKP_CLIP_OK)
        n_ok++;
      if (c->status == WKP_CLIP_FAILED)
        n_failed++;
      if (c->status == WKP_CLIP_SKIPPED)
        n_skipped++;
      if (c->flags)
        n_flagged++;
      for (int k = 0; k < 7; k++)
        if (c->flags & (1u << k))
          per_flag[k]++;
      if (first_offset < 0 && c->status == WKP_CLIP_OK && (c->flags & WKP_CLIP_FLAG_OFFSET) && c->offset_applied == 0
          && c->video_path != NULL && (opinion == NULL || !wkp_timing_disputes (c, &opinion[i])))
        first_offset = i;
      if (opinion != NULL && c->status == WKP_CLIP_OK && (c->flags & WKP_CLIP_FLAG_OFFSET) && opinion[i].known)
        {
          n_judged++;
          n_disputed += wkp_timing_disputes (c, &opinion[i]);
          n_disputed_fixed += wkp_timing_disputes (c, &opinion[i]) && c->offset_applied != 0;
          n_agree += wkp_timing_agrees (c, &opinion[i]);
        }
      if (c->status == WKP_CLIP_SKIPPED && !all)
        continue;
      if (c->status != WKP_CLIP_OK)
        {
          print_lead (name, w, c->speaker, sw, wkp_split_to_string (c->split));
          printf (" %6s %5s %5s %5s %6s %6s", "-", "-", "-", "-", "-", "-");
          if (opinion != NULL)
            printf ("  %5s %5s %5s", "-", "-", "-");
          printf ("  %s: %s\n", wkp_clip_status_to_string (c->status), c->error ? c->error : "");
          continue;
        }
      if (c->flags == 0 && !all)
        continue;
      {
        char conf[16], gain[16], offset[16];
        /* an unsure offset is a guess, not a measurement: in parentheses */
        if (c->flags & WKP_CLIP_FLAG_OFFSET_UNSURE)
          {
            g_snprintf (offset, sizeof offset, "(%+d)", c->offset_frames);
            n_unsure_shown++;
          }
        else
          g_snprintf (offset, sizeof offset, "%+d", c->offset_frames);
        if (isfinite (c->offset_confidence))
          g_snprintf (conf, sizeof conf, "%5.2f", c->offset_confidence);
        else
          g_strlcpy (conf, "    -", sizeof conf);
        if (isfinite (c->offset_gain))
          g_snprintf (gain, sizeof gain, "%5.2f", c->offset_gain);
        else
          g_strlcpy (gain, "    -", sizeof gain);
        print_lead (name, w, c->speaker, sw, wkp_split_to_string (c->split));
        printf (" %6s %s %s %5.2f %6.2f %6.2f", offset, conf, gain, c->face_rate, c->audio_seconds, c->video_seconds);
        if (opinion != NULL && opinion[i].known)
          printf ("  %+5d %5.2f %5.2f", opinion[i].lag, opinion[i].r0, opinion[i].r_lag);
        else if (opinion != NULL)
          printf ("  %5s %5s %5s", "-", "-", "-");
        {
          /* a move that left the estimate's lag on the clip is not a fix (a
           * hand-set audio_late the wrong way round read "(fixed)") */
          int left = c->offset_frames - c->offset_applied;
          g_autofree char *moved = c->offset_applied == 0 ? g_strdup ("")
                                   : ABS (left) <= 1 ? g_strdup (" (fixed)")
                                   : g_strdup_printf (" (moved by %+d, %+d left)", c->offset_applied, left);
          n_moved += c->offset_applied != 0;
          printf ("  %s%s%s\n", flags, moved,
                  opinion != NULL && wkp_timing_disputes (c, &opinion[i]) ? (*flags ? " disputed" : "disputed") : "");
        }
      }
    }
  if (n_unsure_shown > 0)
    printf ("(offset): unsure (low confidence, or at the edge of the search range); never applied\n");
  if (n_flagged > 0)
    printf ("flags: %d offset, %d offset-unsure, %d low-face-rate, %d length-mismatch, %d audio-inverted, "
            "%d irregular-timing, %d low-audio-rate\n", per_flag[0], per_flag[1], per_flag[2], per_flag[3], per_flag[4],
            per_flag[5], per_flag[6]);
  if (opinion != NULL && n_moved > 0)
    printf ("model: on a clip whose sound prepare moved, the lag left on it as prepared\n");
  if (opinion != NULL && n_judged > 0)
    {
      g_autofree char *base = g_path_get_basename (model);
      printf ("%s on the %d offset%s flagged: %d agree%s within a frame, %d dispute%s it%s\n", base,
              n_judged, n_judged == 1 ? "" : "s", n_agree, n_agree == 1 ? "s" : "", n_disputed,
              n_disputed == 1 ? "s" : "",
              n_disputed_fixed > 0 ? " (look at those: --fix-offset applied them; prepare without it undoes that)"
              : n_disputed > 0 ? " (look at those before prepare --fix-offset, which would apply them too)" : "");
    }
  else if (model == NULL && per_flag[0] > 0)
    printf ("check --model MODEL adds a model's opinion of each clip's timing\n");
  if (first_offset >= 0)
    {
      /* where to look at one: the estimate applied, in the studio */
      const WkpDatasetClip *c = wkp_dataset_get_clip (ds, first_offset);
      g_autofree char *quoted = g_shell_quote (c->video_path);
      g_autofree char *quoted_audio = c->audio_path != NULL ? g_shell_quote (c->audio_path) : NULL;
      printf ("to see an offset corrected: wav2kp-studio --audio-late %d %s%s%s (or the Dataset window's "
              "\"Open clips with their estimated offset corrected\"); prepare --fix-offset applies them\n",
              c->offset_frames, quoted, quoted_audio != NULL ? " " : "", quoted_audio != NULL ? quoted_audio : "");
    }
  printf ("%d %s: %d ok, %d flagged, %d failed", wkp_dataset_n_clips (ds),
          WKP_CLI_PLURAL (wkp_dataset_n_clips (ds), "clip", "clips"), n_ok, n_flagged, n_failed);
  if (n_skipped > 0)   /* (the numbers did not add up without them) */
    printf (", %d skipped", n_skipped);
  if (n_damaged > 0)
    {
      printf (", %d damaged\n", n_damaged);
      return damaged_exit (files[0], n_damaged);
    }
  printf ("\n");
  return WKP_EXIT_OK;
}
