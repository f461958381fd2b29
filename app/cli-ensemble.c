/* wav2kp ensemble MODEL MODEL... -o OUT: one model file that averages the
 * networks of several models trained with the same data and settings (e.g.
 * `wav2kp train` with different --seed). Prediction, evaluation, streaming
 * and the studio then use the average of the members' PCA coefficients.
 * --level-gain sets the written model's clip-level calibration (see
 * WkpModel.level_gain); with it a single model may be given. */
#include "wkp-cli.h"
#include "wkp-io.h"
#include "wkp-model.h"

#include <math.h>
#include <stdio.h>

int
wkp_cli_ensemble (int argc, char **argv)
{
  g_auto(GStrv) files = NULL;
  g_autofree char *output = NULL;
  g_autofree char *level_gain_text = NULL;
  double level_gain = -1.0;   /* < 0: not given */
  gboolean overwrite = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Model file to write (.wkpm)", "OUT" },
    { "overwrite", 0, 0, G_OPTION_ARG_NONE, &overwrite, "Replace an existing OUT (refused without it, as by train)", NULL },
    { "level-gain", 0, 0, G_OPTION_ARG_STRING, &level_gain_text,
      "Clip-level gain of the written model, 0 to 10 (default: the inputs' own, normally 0)", "G" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("MODEL MODEL... -o OUT — average several models' networks");
  g_autoptr(GPtrArray) models = g_ptr_array_new_with_free_func ((GDestroyNotify) wkp_model_free);
  g_autoptr(WkpModel) ens = NULL;
  GError *error = NULL;
  guint n;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
      "The models must come from the same dataset and the same training settings (only the seed may\n"
      "differ): same features, frame rate, context, delay, normalisation, PCA and network shape.\n"
      "An ensemble may hold up to 16 networks; members that are ensembles are flattened.\n"
      "\n"
      "--level-gain G: whole-clip prediction adds the clip's mean output (PCA coefficients) again\n"
      "G times, so each clip's mouth level moves (1 + G) times as far from the mean face as the\n"
      "networks put it (they are trained on per-speaker deviations and shrink it). Choose G on\n"
      "validation clips. With --level-gain a single MODEL may be given.");
  if (!wkp_cli_parse (ctx, "ensemble", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  n = files != NULL ? g_strv_length (files) : 0;
  if (level_gain_text != NULL)
    {
      char *end = NULL;
      level_gain = g_ascii_strtod (level_gain_text, &end);
      if (end == level_gain_text || *end != '\0')
        level_gain = NAN;
    }
  if (level_gain_text != NULL && !(level_gain >= 0.0 && level_gain <= WKP_MODEL_LEVEL_GAIN_MAX))
    {
      g_printerr ("wav2kp ensemble: --level-gain must be a number between 0 and %g (got “%s”)\n",
                  WKP_MODEL_LEVEL_GAIN_MAX, level_gain_text);
      return WKP_EXIT_BAD_INPUT;
    }
  if (n < (level_gain >= 0.0 ? 1u : 2u) || output == NULL)
    {
      g_printerr ("wav2kp ensemble: give at least two models (one with --level-gain) and -o OUT "
                  "(see “wav2kp ensemble --help”)\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (!wkp_cli_check_suffix ("ensemble", output, "a model file", ".wkpm"))
    return WKP_EXIT_BAD_INPUT;
  if (!wkp_check_output_path (output, &error))
    return wkp_cli_fail ("ensemble", error);
  /* the same network twice would only weigh it double */
  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++)
      if (wkp_path_same_file (files[i], files[j]))
        {
          g_printerr ("wav2kp ensemble: %s and %s are the same model file\n", files[i], files[j]);
          return WKP_EXIT_BAD_INPUT;
        }
  for (guint i = 0; i < n; i++)
    {
      WkpModel *m = wkp_model_load (files[i], &error);
      if (m == NULL)
        return wkp_cli_fail ("ensemble", error);
      if (level_gain >= 0.0)
        m->level_gain = level_gain;   /* the inputs' own gains do not matter then */
      g_ptr_array_add (models, m);
    }
  ens = wkp_model_ensemble ((WkpModel *const *) models->pdata, (int) n, (const char *const *) files, &error);
  if (ens != NULL && level_gain >= 0.0)
    ens->level_gain = level_gain;
  if (ens == NULL)
    return wkp_cli_fail ("ensemble", error);
  /* (a finished model under that name was replaced without a word, where
   * train refuses to) */
  if (!overwrite && g_file_test (output, G_FILE_TEST_EXISTS))
    {
      g_printerr ("wav2kp ensemble: %s exists: choose another -o, or give --overwrite to replace it\n", output);
      return WKP_EXIT_BAD_INPUT;
    }
  if (!wkp_model_save (ens, output, &error))
    return wkp_cli_fail ("ensemble", error);
  if (wkp_model_n_members (ens) > 1)
    printf ("%s: ensemble of %d networks (%u file%s)", output, wkp_model_n_members (ens), n, n == 1 ? "" : "s");
  else
    printf ("%s: 1 network", output);
  printf (ens->level_gain != 0.0 ? ", level gain %g\n" : "\n", ens->level_gain);
  return WKP_EXIT_OK;
}
