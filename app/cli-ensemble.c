/* wav2kp ensemble MODEL MODEL... -o OUT: one model file that averages the
 * networks of several models trained with the same data and settings (e.g.
 * `wav2kp train` with different --seed). Prediction, evaluation, streaming
 * and the studio then use the average of the members' PCA coefficients. */
#include "wkp-cli.h"
#include "wkp-io.h"
#include "wkp-model.h"

#include <stdio.h>

int
wkp_cli_ensemble (int argc, char **argv)
{
  g_auto(GStrv) files = NULL;
  g_autofree char *output = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Model file to write (.wkpm)", "OUT" },
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
      "An ensemble may hold up to 16 networks; members that are ensembles are flattened.");
  if (!wkp_cli_parse (ctx, "ensemble", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  n = files != NULL ? g_strv_length (files) : 0;
  if (n < 2 || output == NULL)
    {
      g_printerr ("wav2kp ensemble: give at least two models and -o OUT (see “wav2kp ensemble --help”)\n");
      return WKP_EXIT_BAD_INPUT;
    }
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
      g_ptr_array_add (models, m);
    }
  ens = wkp_model_ensemble ((WkpModel *const *) models->pdata, (int) n, (const char *const *) files, &error);
  if (ens == NULL || !wkp_model_save (ens, output, &error))
    return wkp_cli_fail ("ensemble", error);
  printf ("%s: ensemble of %d networks (%u files)\n", output, wkp_model_n_members (ens), n);
  return WKP_EXIT_OK;
}
