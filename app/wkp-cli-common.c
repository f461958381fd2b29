#include "wkp-cli.h"

#include "wkp-config.h"
#include "wkp-dataset.h"
#include "wkp-error.h"
#include "wkp-io.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

int
wkp_cli_fail (const char *command, GError *error)
{
  if (error != NULL)
    {
      g_printerr ("wav2kp %s: %s\n", command, error->message);
      g_error_free (error);
    }
  else
    g_printerr ("wav2kp %s: failed\n", command);
  return WKP_EXIT_BAD_INPUT;
}

gboolean
wkp_cli_parse_audio_late (const char *command, const char *text, int *frames)
{
  gint64 v = 0;
  g_autoptr(GError) error = NULL;
  *frames = 0;
  if (text == NULL)
    return TRUE;
  /* decimal only: "010" is ten frames, not eight */
  if (!g_ascii_string_to_signed (text, 10, G_MININT, G_MAXINT, &v, &error))
    {
      g_printerr ("wav2kp %s: --audio-late %s: not a whole number of frames\n", command, text);
      return FALSE;
    }
  *frames = (int) v;
  return TRUE;
}

gboolean
wkp_cli_parse (GOptionContext *ctx, const char *command, int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("wav2kp %s", command);

  /* --help then reads "Usage: wav2kp COMMAND [OPTION…] ..." */
  g_set_prgname (prgname);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("wav2kp %s: %s (see “wav2kp %s --help”)\n", command, error->message, command);
      return FALSE;
    }
  return TRUE;
}

gboolean
wkp_cli_clip_args (const char *command, char **files, const char *output, const char *fps_text,
                   WkpSourceSpec *spec, char **json_path)
{
  GError *error = NULL;
  g_autofree char *json = NULL;

  if (files != NULL && files[0] != NULL && files[1] != NULL && files[2] == NULL && output == NULL)
    {
      /* "predict in.wav out.npy": the output without its -o */
      g_printerr ("wav2kp %s: give the output with -o (%s IN -o OUT.npy); two files were given, %s and %s\n",
                  command, command, files[0], files[1]);
      return FALSE;
    }
  if (files == NULL || files[0] == NULL || files[1] != NULL)
    {
      g_printerr ("wav2kp %s: give exactly one input FILE\n", command);
      return FALSE;
    }
  if (output == NULL)
    {
      g_printerr ("wav2kp %s: give the output with -o OUT.npy\n", command);
      return FALSE;
    }
  if (fps_text != NULL && !wkp_frame_rate_parse (fps_text, &spec->fps, &error))
    return wkp_cli_fail (command, error), FALSE;
  /* fail before decoding when an output cannot be written */
  if (!wkp_check_output_path (output, &error))
    return wkp_cli_fail (command, error), FALSE;
  /* the array is NumPy's format: under another name (-o p.txt, -o p.csv)
   * readers would take it for what its name says */
  if (!wkp_cli_check_suffix (command, output, "a NumPy array", ".npy"))
    return FALSE;
  json = wkp_path_replace_ext (output, ".json");
  if (!wkp_check_side_output (json, output, &error))
    return wkp_cli_fail (command, error), FALSE;
  spec->video = files[0];
  *json_path = g_steal_pointer (&json);
  return TRUE;
}

gboolean
wkp_cli_check_suffix (const char *command, const char *output, const char *what, const char *suffix)
{
  if (wkp_path_has_suffix (output, suffix))
    return TRUE;
  g_printerr ("wav2kp %s: %s: the output is %s and must end in %s\n", command, output, what, suffix);
  return FALSE;
}

void
wkp_cli_sidecar_begin (JsonBuilder *b, const char *kind, const char *source, const WkpClipAudio *clip)
{
  g_autofree char *fps = wkp_rational_to_string (clip->fps);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind);
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, WKP_VERSION);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, source);
  json_builder_set_member_name (b, "audio_source");
  json_builder_add_string_value (b, clip->audio_source);
  json_builder_set_member_name (b, "fps");
  json_builder_add_string_value (b, fps);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, clip->n_frames);
  json_builder_set_member_name (b, "frame_time");
  json_builder_add_string_value (b, "row i covers [i*den/num, (i+1)*den/num) s of the video");
  if (clip->audio_late != 0)
    {
      /* what the rows were computed from: not the file's own alignment */
      json_builder_set_member_name (b, "audio_late_frames");
      json_builder_add_int_value (b, clip->audio_late);
    }
}

/* Drops every "history" member (a network's per-epoch training log: tens of
 * kilobytes for an ensemble, and not what made these keypoints). */
static void
drop_history (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *o = json_node_get_object (node);
      g_autoptr(GList) members = NULL;
      if (json_object_has_member (o, "history"))
        json_object_remove_member (o, "history");
      members = json_object_get_values (o);
      for (GList *l = members; l != NULL; l = l->next)
        drop_history (l->data);
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (a); i++)
        drop_history (json_array_get_element (a, i));
    }
}

JsonNode *
wkp_cli_prediction_sidecar (const char *source, const WkpClipAudio *clip, const WkpModel *model,
                            const char *model_path, const char *pixels_from, double seconds)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *model_fps = wkp_rational_to_string (model->fps);
  g_autofree char *model_abs = g_canonicalize_filename (model_path, NULL);

  wkp_cli_sidecar_begin (b, "wav2kp.prediction", source, clip);
  json_builder_set_member_name (b, "space");
  json_builder_add_string_value (b, pixels_from != NULL ? "pixels" : "canonical");
  if (pixels_from != NULL)
    {
      json_builder_set_member_name (b, "pixels_from");
      json_builder_add_string_value (b, pixels_from);
    }
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model_abs);
  json_builder_set_member_name (b, "model_fps");
  json_builder_add_string_value (b, model_fps);
  json_builder_set_member_name (b, "resampling");
  json_builder_add_string_value (b, "linear interpolation of the model's internal frames at the clip's frame centres");
  json_builder_set_member_name (b, "model_info");
  {
    JsonNode *info = wkp_model_describe (model);
    drop_history (info);
    json_builder_add_value (b, info);
  }
  json_builder_set_member_name (b, "seconds");
  json_builder_add_double_value (b, seconds);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

struct _WkpCliProgress {
  char    *label;
  gboolean tty;
  gint64   start;
  gint64   last;
  gboolean drawn;
};

WkpCliProgress *
wkp_cli_progress_new (const char *label)
{
  WkpCliProgress *p = g_new0 (WkpCliProgress, 1);
  p->label = g_strdup (label);
  p->tty = isatty (STDERR_FILENO) && g_getenv ("WKP_NO_PROGRESS") == NULL;
  p->start = g_get_monotonic_time ();
  return p;
}

void
wkp_cli_progress_update (gint64 done, gint64 total, const char *what, gpointer user_data)
{
  WkpCliProgress *p = user_data;
  gint64 now = g_get_monotonic_time ();
  double elapsed;
  g_autoptr(GString) line = NULL;

  if (p == NULL || !p->tty)
    return;
  if (now - p->last < 100000 && done != total)
    return;
  p->last = now;
  elapsed = (now - p->start) / 1e6;
  line = g_string_new (NULL);
  g_string_append_printf (line, "\r\033[K%s", p->label);
  if (total > 0)
    {
      int width = 24, filled = (int) (width * (double) done / (double) total);
      g_string_append (line, " [");
      for (int i = 0; i < width; i++)
        g_string_append_c (line, i < filled ? '#' : '.');
      g_string_append_printf (line, "] %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, done, total);
      if (done > 0 && elapsed > 0.5)
        {
          double eta = elapsed * (double) (total - done) / (double) done;
          g_string_append_printf (line, "  %.1f/s  ETA %d:%02d", done / elapsed, (int) eta / 60, (int) eta % 60);
        }
    }
  else
    g_string_append_printf (line, " %" G_GINT64_FORMAT, done);
  if (what != NULL && *what != '\0')
    g_string_append_printf (line, "  %s", what);
  fputs (line->str, stderr);
  fflush (stderr);
  p->drawn = TRUE;
}

void
wkp_cli_progress_free (WkpCliProgress *p)
{
  if (p == NULL)
    return;
  if (p->drawn)
    {
      fputs ("\r\033[K", stderr);
      fflush (stderr);
    }
  g_free (p->label);
  g_free (p);
}

char *
wkp_cli_default_model (GError **error)
{
  const char *env = g_getenv ("WKP_MODEL");
  g_autofree char *built = g_build_filename (WKP_SOURCE_DIR, "data", "default.wkpm", NULL);
  g_autofree char *installed = g_build_filename (WKP_PKGDATADIR, "default.wkpm", NULL);

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  if (g_file_test (installed, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&installed);
  if (g_file_test (built, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&built);
  g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_NOT_FOUND,
               "No default model installed (looked for %s and %s); pass --model FILE", installed, built);
  return NULL;
}

void
wkp_cli_feature_options_add (GOptionContext *ctx, WkpCliFeatureOptions *o, WkpFeatureConfig *config)
{
  /* the numbers parse straight into @config, whose values are the defaults */
  GOptionEntry entries[] = {
    { "kind", 0, 0, G_OPTION_ARG_STRING, &o->kind, "Features: mfcc (default) or logmel", "KIND" },
    { "subframes", 0, 0, G_OPTION_ARG_INT, &config->subframes, "Analysis windows stacked per row (default 4)", "N" },
    { "window-ms", 0, 0, G_OPTION_ARG_DOUBLE, &config->window_ms, "Analysis window length in ms (default 25)", "MS" },
    { "n-fft", 0, 0, G_OPTION_ARG_INT, &config->n_fft, "FFT size, a power of two (default 512)", "N" },
    { "mels", 0, 0, G_OPTION_ARG_INT, &config->n_mels, "Mel bands (default 40)", "N" },
    { "mfcc", 0, 0, G_OPTION_ARG_INT, &config->n_mfcc, "Cepstral coefficients kept, incl. c0 (default 13)", "N" },
    { "fmin", 0, 0, G_OPTION_ARG_DOUBLE, &config->fmin, "Lowest mel filter edge in Hz (default 20)", "HZ" },
    { "fmax", 0, 0, G_OPTION_ARG_DOUBLE, &config->fmax, "Highest mel filter edge in Hz (default 7600)", "HZ" },
    { "preemphasis", 0, 0, G_OPTION_ARG_DOUBLE, &config->preemphasis, "Pre-emphasis coefficient, 0 disables (default 0.97)", "A" },
    { "deltas", 0, 0, G_OPTION_ARG_INT, &config->deltas, "0: none, 1: +delta, 2: +delta+delta-delta (default 2)", "N" },
    { NULL }
  };
  o->config = config;
  o->kind = NULL;
  g_option_context_add_main_entries (ctx, entries, NULL);
}

gboolean
wkp_cli_feature_options_apply (WkpCliFeatureOptions *o, const char *command)
{
  GError *error = NULL;
  if (o->kind != NULL && g_strcmp0 (o->kind, "mfcc") != 0 && g_strcmp0 (o->kind, "logmel") != 0)
    {
      g_printerr ("wav2kp %s: --kind must be mfcc or logmel, not “%s”\n", command, o->kind);
      return FALSE;
    }
  if (o->kind != NULL)
    o->config->kind = g_str_equal (o->kind, "logmel") ? WKP_FEATURE_LOGMEL : WKP_FEATURE_MFCC;
  if (!wkp_feature_config_validate (o->config, &error))
    {
      wkp_cli_fail (command, error);
      return FALSE;
    }
  return TRUE;
}

void
wkp_cli_feature_options_clear (WkpCliFeatureOptions *o)
{
  g_clear_pointer (&o->kind, g_free);
}

void
wkp_cli_note_ignored_fps (const char *command, const char *fps_text, const WkpClipAudio *clip)
{
  if (fps_text != NULL && clip->video_info != NULL && clip->video_info->has_video
      && !clip->video_info->is_image_sequence)
    {
      g_autofree char *rate = wkp_rational_to_string (clip->fps);
      g_printerr ("wav2kp %s: note: --fps %s is for audio-only input and image sequences; the video's own "
                  "%s fps is used\n", command, fps_text, rate);
    }
}

void
wkp_cli_note_audio_mix (const char *command, const WkpClipAudio *clip)
{
  /* (and where a silent video's sound came from) */
  if (clip->companion)
    g_printerr ("wav2kp %s: note: %s has no sound; using its WAV %s (--audio FILE to choose another)\n",
                command, clip->video_info->path, clip->audio_source);
  g_autofree char *note = wkp_audio_mix_note (clip->audio, clip->audio_source);
  if (note != NULL)
    g_printerr ("wav2kp %s: note: %s\n", command, note);
  g_autofree char *rate_note = wkp_audio_rate_note (clip->audio, clip->audio_source);
  if (rate_note != NULL)
    g_printerr ("wav2kp %s: note: %s\n", command, rate_note);
  g_autofree char *timing = wkp_media_timing_note (clip->video_info);
  if (timing != NULL)
    g_printerr ("wav2kp %s: note: %s\n", command, timing);
  if (clip->video_info != NULL && clip->audio->rate > 0 && clip->fps.num > 0)
    {
      /* sound and pictures of different lengths (a WAV paired with another
       * clip's video, or cut short) went without a word here, while prepare
       * flags length-mismatch by the same rule */
      WkpPrepareParams pp;
      double audio_s = (double) clip->audio->n_samples / clip->audio->rate;
      double video_s = (double) clip->n_frames * clip->fps.den / clip->fps.num;
      wkp_prepare_params_init_default (&pp);
      /* (`audio` writes the whole sound: the rows are the other commands') */
      gboolean whole = g_str_equal (command, "audio");
      if (fabs (audio_s - video_s) > pp.max_length_mismatch)
        g_printerr ("wav2kp %s: note: the sound (%s, %.2f s) and the pictures (%.2f s) differ in length by %.2f s; "
                    "%s%s%s\n", command, clip->audio_source, audio_s, video_s, fabs (audio_s - video_s),
                    whole ? "the WAV holds the sound as it is (the commands that write a row per video frame: "
                          : "there is a row per video frame, ",
                    audio_s < video_s ? "the missing sound read as silence" : "the sound after the last picture unused",
                    whole ? ")" : "");
    }
}

/* @text in a column of @width characters (not bytes: a name is never cut
 * inside a character), control characters shown as spaces, cut at the end
 * with "..." (or, @keep_end, at the start) and padded with spaces. */
void
wkp_cli_print_cell (const char *text, glong width, gboolean keep_end)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  glong len = g_utf8_strlen (valid, -1);
  const char *start = valid;
  glong shown = len;

  if (len > width)
    {
      if (keep_end)
        {
          fputs ("...", stdout);
          start = g_utf8_offset_to_pointer (valid, len - (width - 3));
        }
      shown = width - 3;
    }
  for (glong k = 0; k < shown; k++, start = g_utf8_next_char (start))
    {
      gunichar ch = g_utf8_get_char (start);
      if (g_unichar_iscntrl (ch))
        putchar (' ');
      else
        fwrite (start, 1, g_utf8_next_char (start) - start, stdout);
    }
  if (len > width && !keep_end)
    fputs ("...", stdout);   /* (a cut name says so: two long names could read alike) */
  for (glong k = len > width ? width : len; k < width; k++)
    putchar (' ');
}

int
wkp_cli_describe_model (const char *command, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WkpModel) model = wkp_model_load (path, &error);
  g_autoptr(JsonNode) desc = NULL;
  g_autofree char *text = NULL;
  if (model == NULL)
    return wkp_cli_fail (command, g_steal_pointer (&error));
  desc = wkp_model_describe (model);
  text = wkp_json_to_string (desc, TRUE);
  printf ("%s\n", text);
  return WKP_EXIT_OK;
}
