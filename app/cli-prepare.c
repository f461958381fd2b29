/* wav2kp prepare SRC -o DATASET: a corpus (folder or manifest CSV) into an
 * aligned, checked, cached training set. */
#include "wkp-cli.h"
#include "wkp-dataset.h"
#include "wkp-io.h"

#include <math.h>
#include <stdio.h>

int
wkp_cli_prepare (int argc, char **argv)
{
  g_autofree char *output = NULL, *model_fps = NULL, *seq_fps = NULL;
  g_auto(WkpCliFeatureOptions) fo = { 0 };
  g_auto(GStrv) files = NULL;
  g_auto(GStrv) train_speakers = NULL;
  WkpPrepareParams params;
  WkpPrepareReport report = { 0 };
  gboolean fix_offset = FALSE, retry_failed = FALSE, no_tracking = FALSE, quiet = FALSE, replace = FALSE;
  int jobs = 1, max_lag, detect_every;
  gint64 seed;
  double val, test, dominant, min_face_rate, max_mismatch, min_conf, min_gain;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-o DATASET — prepare a training set from a folder or a manifest CSV");
  g_autoptr(WkpCliProgress) progress = NULL;
  g_autoptr(WkpDataset) ds = NULL;
  GError *error = NULL;
  gint64 t0;

  wkp_prepare_params_init_default (&params);
  max_lag = params.max_lag;
  detect_every = params.landmarks.detect_every;
  seed = (gint64) params.seed;
  val = params.val_fraction;
  test = params.test_fraction;
  dominant = params.dominant_share;
  min_face_rate = params.min_face_rate;
  max_mismatch = params.max_length_mismatch;
  min_conf = params.min_offset_confidence;
  min_gain = params.min_offset_gain;
  {
    GOptionEntry entries[] = {
      { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Dataset folder (created; re-running resumes)", "DATASET" },
      { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Clips processed in parallel (default 1)", "N" },
      { "model-fps", 0, 0, G_OPTION_ARG_STRING, &model_fps, "Rate of the feature rows, the model's internal rate (default 25)", "NUM/DEN" },
      { "sequence-fps", 0, 0, G_OPTION_ARG_STRING, &seq_fps, "Frame rate of image sequences (default: the rate a frames.json of wav2kp frames beside them records, else 25)", "NUM/DEN" },
      { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the speaker split (default 1)", "N" },
      { "val", 0, 0, G_OPTION_ARG_DOUBLE, &val, "Fraction of held-out-eligible speakers in val (default 0.15)", "F" },
      { "test", 0, 0, G_OPTION_ARG_DOUBLE, &test, "Fraction of held-out-eligible speakers in test (default 0.15)", "F" },
      { "dominant-share", 0, 0, G_OPTION_ARG_DOUBLE, &dominant, "Speakers above this share of all frames stay in train (default 0.25)", "F" },
      { "train-speaker", 0, 0, G_OPTION_ARG_STRING_ARRAY, &train_speakers, "Pin a speaker to the train split (repeatable)", "NAME" },
      { "fix-offset", 0, 0, G_OPTION_ARG_NONE, &fix_offset, "Shift audio and features of clips with a confident offset of 2+ frames", NULL },
      { "max-lag", 0, 0, G_OPTION_ARG_INT, &max_lag, "Offset search range in frames (default 10)", "N" },
      { "min-offset-confidence", 0, 0, G_OPTION_ARG_DOUBLE, &min_conf, "Offset estimates below this confidence are “unsure”, not flagged (default 0.2)", "C" },
      { "min-offset-gain", 0, 0, G_OPTION_ARG_DOUBLE, &min_gain, "Flag an offset only if it beats lag 0 by this much correlation (default 0.08)", "R" },
      { "min-face-rate", 0, 0, G_OPTION_ARG_DOUBLE, &min_face_rate, "Flag clips with a smaller fraction of frames with a face (default 0.9)", "F" },
      { "max-length-mismatch", 0, 0, G_OPTION_ARG_DOUBLE, &max_mismatch, "Flag clips whose audio and video lengths differ by more seconds (default 0.2)", "S" },
      { "retry-failed", 0, 0, G_OPTION_ARG_NONE, &retry_failed, "Retry clips that failed before with the same inputs", NULL },
      { "replace", 0, 0, G_OPTION_ARG_NONE, &replace,
        "DATASET was prepared from another source: replace it, deleting its clips that SRC does not list", NULL },
      { "detect-every", 0, 0, G_OPTION_ARG_INT, &detect_every, "Landmarks: re-detect the face at least every N frames", "N" },
      { "no-tracking", 0, 0, G_OPTION_ARG_NONE, &no_tracking, "Landmarks: detect in every frame", NULL },
      /* `wav2kp landmarks`' names for the same settings, accepted here too */
      { "every", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &detect_every, NULL, "N" },
      { "detect-every-frame", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &no_tracking, NULL, NULL },
      { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only the summary", NULL },
      { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "SRC" },
      { NULL }
    };
    g_option_context_add_main_entries (ctx, entries, NULL);
    wkp_cli_feature_options_add (ctx, &fo, &params.features);
  }
  g_option_context_set_description (ctx,
    "SRC is a folder (every video, paired with a same-named .wav beside it or in a sibling wav/\n"
    "folder) or a CSV with columns video,audio,speaker (paths relative to the CSV; image-sequence\n"
    "patterns such as frames/%06d.jpg allowed; rows without video are audio-only and skipped).\n"
    "Each clip's arrays are cached under DATASET/clips/ by the content hash of its inputs and the\n"
    "config: re-running skips finished clips; killing the run leaves no partial clip.\n"
    "Speaker-independent splits are written to DATASET/dataset.json; see “wav2kp check”.");
  if (!wkp_cli_parse (ctx, "prepare", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (files == NULL || files[0] == NULL || files[1] != NULL)
    {
      g_printerr ("wav2kp prepare: give exactly one SRC (folder or CSV)\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (output == NULL)
    {
      g_printerr ("wav2kp prepare: give the dataset folder with -o DATASET\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (jobs < 1 || jobs > 64)
    {
      g_printerr ("wav2kp prepare: --jobs must be 1..64\n");
      return WKP_EXIT_BAD_INPUT;
    }
  {
    /* the first bad value, by its option */
    const char *bad = seed < 0 ? "--seed must be >= 0"
                    : !(val >= 0 && val < 1) ? "--val must be in [0, 1)"
                    : !(test >= 0 && test < 1) ? "--test must be in [0, 1)"
                    : !(val + test < 1) ? "--val + --test must be below 1"
                    : !(dominant > 0 && dominant <= 1) ? "--dominant-share must be in (0, 1]"
                    : max_lag < 1 || max_lag > 31 ? "--max-lag must be in 1..31"
                    : detect_every < 1 ? "--detect-every must be >= 1"
                    : !(min_face_rate >= 0 && min_face_rate <= 1) ? "--min-face-rate must be in [0, 1]"
                    : !(max_mismatch >= 0 && max_mismatch <= 3600) ? "--max-length-mismatch must be 0..3600 seconds"
                    : !(min_conf >= 0 && min_conf <= 1) ? "--min-offset-confidence must be in [0, 1]"
                    : !(min_gain >= 0 && min_gain <= 2) ? "--min-offset-gain must be in [0, 2]"
                    : NULL;
    if (bad != NULL)
      {
        g_printerr ("wav2kp prepare: %s\n", bad);
        return WKP_EXIT_BAD_INPUT;
      }
  }
  if (model_fps != NULL && !wkp_frame_rate_parse (model_fps, &params.model_fps, &error))
    return wkp_cli_fail ("prepare", error);
  if (seq_fps != NULL && !wkp_frame_rate_parse (seq_fps, &params.sequence_fps, &error))
    return wkp_cli_fail ("prepare", error);
  if (!wkp_cli_feature_options_apply (&fo, "prepare"))
    return WKP_EXIT_BAD_INPUT;
  params.landmarks.detect_every = detect_every;
  if (no_tracking)
    params.landmarks.tracking = FALSE;
  params.landmarks.n_threads = 1;
  params.n_jobs = jobs;
  params.seed = (guint64) seed;
  params.val_fraction = val;
  params.test_fraction = test;
  params.dominant_share = dominant;
  params.train_speakers = train_speakers;
  params.fix_offset = fix_offset;
  params.max_lag = max_lag;
  params.min_face_rate = min_face_rate;
  params.max_length_mismatch = max_mismatch;
  params.min_offset_confidence = min_conf;
  params.min_offset_gain = min_gain;
  params.retry_failed = retry_failed;
  params.replace = replace;

  progress = wkp_cli_progress_new ("prepare");
  t0 = g_get_monotonic_time ();
  if (!wkp_dataset_prepare (files[0], output, &params, wkp_cli_progress_update, progress, NULL, &report,
                            &error))
    return wkp_cli_fail ("prepare", error);
  g_clear_pointer (&progress, wkp_cli_progress_free);

  ds = wkp_dataset_open (output, &error);
  if (ds == NULL)
    return wkp_cli_fail ("prepare", error);
  if (!quiet)
    for (int i = 0; i < wkp_dataset_n_clips (ds); i++)
      {
        const WkpDatasetClip *c = wkp_dataset_get_clip (ds, i);
        if (c->status == WKP_CLIP_FAILED)
          printf ("failed   %s: %s\n", c->name, c->error);
      }
  /* a failure is either this run's or an earlier run's record (not tried
   * again without --retry-failed); "1 ok (0 computed, 1 cached), 1 failed"
   * after --retry-failed read as if nothing had been tried */
  int failed_recorded = report.n_failed_recorded;
  int failed_now = report.n_failed - failed_recorded;
  g_autofree char *failed_text
    = failed_recorded > 0 && failed_now > 0
      ? g_strdup_printf ("%d failed (%d this run, %d as an earlier run recorded: --retry-failed tries %s again)",
                         report.n_failed, failed_now, failed_recorded, failed_recorded == 1 ? "it" : "them")
      : failed_recorded > 0
      ? g_strdup_printf ("%d failed (as an earlier run recorded: --retry-failed tries %s again)", report.n_failed,
                         failed_recorded == 1 ? "it" : "them")
      : retry_failed && failed_now > 0 ? g_strdup_printf ("%d failed (tried again)", report.n_failed)
      : g_strdup_printf ("%d failed", report.n_failed);
  printf ("%s: %d %s: %d ok (%d computed, %d cached), %s, %d skipped, %d flagged; "
          "%" G_GINT64_FORMAT " video %s, %" G_GINT64_FORMAT " feature %s; %.1f s\n",
          output, report.n_clips, WKP_CLI_PLURAL (report.n_clips, "clip", "clips"), report.n_ok,
          report.n_ok - report.n_cached, report.n_cached, failed_text, report.n_skipped, report.n_flagged, report.n_frames, WKP_CLI_PLURAL (report.n_frames, "frame", "frames"),
          report.n_feature_frames, WKP_CLI_PLURAL (report.n_feature_frames, "row", "rows"),
          (g_get_monotonic_time () - t0) / 1e6);
  {
    const char *names[] = { "train", "val", "test" };
    for (int s = WKP_SPLIT_TRAIN; s <= WKP_SPLIT_TEST; s++)
      {
        g_auto(GStrv) spk = wkp_dataset_speakers (ds, (WkpSplit) s);
        g_autoptr(GArray) idx = wkp_dataset_split_indices (ds, (WkpSplit) s);
        g_autofree char *list = g_strjoinv (", ", spk);
        if (!quiet)
          printf ("  %-5s %4u %s, %2u %s: %s\n", names[s], idx->len, WKP_CLI_PLURAL (idx->len, "clip ", "clips"),
                  g_strv_length (spk), WKP_CLI_PLURAL (g_strv_length (spk), "speaker ", "speakers"), list);
      }
  }
  if (report.n_duplicates > 0)
    printf ("note: %d clip%s the same video and sound as a clip in another split (%s%s): a model would be scored "
            "on what it trained on; list each once\n", report.n_duplicates,
            report.n_duplicates == 1 ? " is" : "s are", report.n_duplicates > 1 ? "e.g. " : "",
            report.duplicate_example);
  if (report.n_removed > 0)
    printf ("removed %d clip%s of %s that %s no longer lists\n", report.n_removed, report.n_removed == 1 ? "" : "s",
            output, files[0]);
  if (report.n_superseded > 0)
    printf ("replaced %d older clip folder%s of %s (prepared with other settings or inputs)\n", report.n_superseded,
            report.n_superseded == 1 ? "" : "s", output);
  if (report.n_flagged > 0 && !quiet)
    printf ("run “wav2kp check %s” for the flagged clips\n", output);
  if (report.n_ok == 0)
    {
      g_printerr ("wav2kp prepare: no clip could be prepared\n");
      return WKP_EXIT_BAD_INPUT;
    }
  return WKP_EXIT_OK;
}
