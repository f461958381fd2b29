/* wav2kp convert IN -o OUT [metadata options]
 *   IN .npz / .safetensors (a PyTorch state dict) -> OUT model file
 *   IN model file -> OUT.npz (+ OUT.json metadata) for inspection in numpy
 *   IN model file -> OUT model file (re-validated copy)
 * wav2kp convert --info MODEL prints the model's description. */
#include "wkp-cli.h"
#include "wkp-convert.h"
#include "wkp-io.h"
#include "wkp-model.h"

#include <stdio.h>
#include <string.h>

static gboolean
is_model_file (const char *path)
{
  char magic[8];
  return wkp_read_head (path, magic, 8) == 8 && memcmp (magic, WKP_MODEL_MAGIC, 8) == 0;
}

/* "mouth", "all" or "48,49,..." -> a JSON node. */
static JsonNode *
points_node (const char *text, GError **error)
{
  g_auto(GStrv) parts = NULL;
  JsonArray *a;
  JsonNode *n;

  if (strcmp (text, "mouth") == 0 || strcmp (text, "all") == 0)
    {
      n = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (n, text);
      return n;
    }
  parts = g_strsplit (text, ",", -1);
  a = json_array_new ();
  for (int i = 0; parts[i] != NULL; i++)
    {
      gint64 v;
      if (!g_ascii_string_to_signed (g_strstrip (parts[i]), 10, 0, 67, &v, NULL))
        {
          g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                       "--points: “%s” is not a landmark index 0..67 (or use mouth / all)", parts[i]);
          json_array_unref (a);
          return NULL;
        }
      json_array_add_int_element (a, v);
    }
  n = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (n, a);
  return n;
}

/* IN.json beside IN when it is the metadata sidecar that `convert MODEL -o
 * IN.npz` wrote (its "software" member names wav2kp), else NULL; a sidecar
 * that is not a JSON object is an error (*error set): it was skipped, and the
 * model silently got the default delay and normalisation. */
static char *
own_sidecar (const char *in, GError **error)
{
  g_autofree char *path = wkp_path_replace_ext (in, ".json");
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) local = NULL;
  JsonObject *o;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return NULL;
  if ((node = wkp_json_load_file (path, &local)) == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autofree char *why = node == NULL ? g_strdup (local->message)
                                          : g_strdup_printf ("%s is not a JSON object", path);
      g_set_error (error, WKP_MODEL_ERROR, WKP_ERROR_INVALID, "%s: its metadata sidecar cannot be used (%s); repair "
                   "or remove it, or give --metadata", in, why);
      return NULL;
    }
  o = json_node_get_object (node);
  if (!json_object_has_member (o, "software") ||
      json_node_get_value_type (json_object_get_member (o, "software")) != G_TYPE_STRING ||
      !g_str_has_prefix (json_object_get_string_member (o, "software"), "wav2kp"))
    return NULL;
  return g_steal_pointer (&path);
}

int
wkp_cli_convert (int argc, char **argv)
{
  g_autofree char *output = NULL, *meta_path = NULL, *fps_text = NULL, *points = NULL, *lstm_prefix = NULL,
                  *head_prefix = NULL;
  g_auto(GStrv) files = NULL;
  int context = G_MININT, delay = G_MININT;   /* G_MININT: not given */
  gboolean per_clip = FALSE, info = FALSE;
  g_autoptr(GOptionContext) ctx = g_option_context_new ("-o OUT — PyTorch state dict <-> model file");
  g_autoptr(WkpModel) model = NULL;
  GError *error = NULL;
  const char *in;

  {
    GOptionEntry entries[] = {
      { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Output: a model file, or OUT.npz to export a model", "OUT" },
      { "metadata", 0, 0, G_OPTION_ARG_FILENAME, &meta_path, "JSON object with what the state dict lacks (features, fps, context, delay, per_clip_norm, points); default: the IN.json that “convert MODEL -o IN.npz” wrote, when present", "META.json" },
      { "fps", 0, 0, G_OPTION_ARG_STRING, &fps_text, "Internal frame rate of the network (default 25)", "NUM/DEN" },
      { "context", 0, 0, G_OPTION_ARG_INT, &context, "Feature frames stacked each side (default: from the LSTM input size)", "N" },
      { "delay", 0, 0, G_OPTION_ARG_INT, &delay, "Output frame t is read at step t + N (default 0)", "N" },
      { "per-clip-norm", 0, 0, G_OPTION_ARG_NONE, &per_clip, "Standardise features per clip before feature_mean/std", NULL },
      { "points", 0, 0, G_OPTION_ARG_STRING, &points, "Predicted landmarks: mouth, all, or a list 48,49,...", "LIST" },
      { "lstm-prefix", 0, 0, G_OPTION_ARG_STRING, &lstm_prefix, "State-dict prefix of the nn.LSTM (default “lstm.”)", "PREFIX" },
      { "head-prefix", 0, 0, G_OPTION_ARG_STRING, &head_prefix, "State-dict prefix of the nn.Linear head (default “head.”)", "PREFIX" },
      { "info", 0, 0, G_OPTION_ARG_NONE, &info, "Print the description of a model file (JSON) and exit", NULL },
      { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "IN" },
      { NULL }
    };
    g_option_context_add_main_entries (ctx, entries, NULL);
  }
  g_option_context_set_description (ctx,
    "A PyTorch nn.LSTM (\"lstm\") + nn.Linear (\"head\") state dict exported with numpy.savez or\n"
    "safetensors (tools/export_torch.py does it) becomes a model file; optional tensors\n"
    "feature_mean, feature_std, mean_face, pca.mean, pca.basis, pca.scale are taken too.\n"
    "Options override the --metadata JSON. A model file converts back to OUT.npz + OUT.json,\n"
    "which convert to the same model again (OUT.json is read automatically beside OUT.npz).");
  if (!wkp_cli_parse (ctx, "convert", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (files == NULL || files[0] == NULL || files[1] != NULL)
    {
      g_printerr ("wav2kp convert: give exactly one input IN\n");
      return WKP_EXIT_BAD_INPUT;
    }
  in = files[0];
  if (info && output != NULL)
    {
      /* (-o was ignored: the description went to standard output, exit 0) */
      g_printerr ("wav2kp convert: --info prints the description on standard output; leave out -o (or redirect: "
                  "> %s)\n", output);
      return WKP_EXIT_BAD_INPUT;
    }
  if (info)
    return wkp_cli_describe_model ("convert", in);
  if (output == NULL)
    {
      g_printerr ("wav2kp convert: give the output with -o OUT\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (!wkp_check_output_path (output, &error))
    return wkp_cli_fail ("convert", error);
  /* a model file named .safetensors would fool every reader of that format */
  if (g_str_has_suffix (output, ".safetensors"))
    return wkp_cli_fail ("convert", g_error_new (WKP_MODEL_ERROR, WKP_ERROR_UNSUPPORTED,
                                                 "%s: convert reads safetensors but does not write them; write OUT.npz "
                                                 "(numpy, torch) or a model file (OUT.wkpm)", output));
  if (!wkp_path_has_suffix (output, ".npz") && !wkp_path_has_suffix (output, ".wkpm"))
    return wkp_cli_fail ("convert", g_error_new (WKP_IO_ERROR, WKP_ERROR_INVALID,
                                                 "%s: the output is a model file or a state dict and must end in "
                                                 ".wkpm or .npz", output));
  if (!g_file_test (in, G_FILE_TEST_EXISTS))
    return wkp_cli_fail ("convert", g_error_new (WKP_IO_ERROR, WKP_ERROR_NOT_FOUND, "%s: no such file", in));

  if (is_model_file (in))
    {
      model = wkp_model_load (in, &error);
      if (model == NULL)
        return wkp_cli_fail ("convert", error);
      if (g_str_has_suffix (output, ".npz"))
        {
          g_autofree char *js = wkp_path_replace_ext (output, ".json");
          if (!wkp_check_side_output (js, output, &error) || !wkp_model_export_npz (model, output, &error))
            return wkp_cli_fail ("convert", error);
          return WKP_EXIT_OK;
        }
    }
  else
    {
      g_autoptr(WkpStateDict) sd = NULL;
      g_autoptr(JsonNode) meta = NULL;
      JsonObject *o;

      if (meta_path == NULL && (meta_path = own_sidecar (in, &error)) == NULL && error != NULL)
        return wkp_cli_fail ("convert", error);
      if (meta_path != NULL)
        {
          meta = wkp_json_load_file (meta_path, &error);
          if (meta == NULL)
            return wkp_cli_fail ("convert", error);
          if (!JSON_NODE_HOLDS_OBJECT (meta))
            return wkp_cli_fail ("convert", g_error_new (WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                                                         "%s: metadata must be a JSON object", meta_path));
        }
      else
        {
          meta = json_node_new (JSON_NODE_OBJECT);
          json_node_take_object (meta, json_object_new ());
        }
      o = json_node_get_object (meta);
      if (fps_text != NULL)
        json_object_set_string_member (o, "fps", fps_text);
      if (context >= 0)
        json_object_set_int_member (o, "context", context);
      else if (context != G_MININT)
        return wkp_cli_fail ("convert", g_error_new_literal (WKP_MODEL_ERROR, WKP_ERROR_INVALID, "--context must be >= 0"));
      if (delay >= 0)
        json_object_set_int_member (o, "delay", delay);
      else if (delay != G_MININT)
        return wkp_cli_fail ("convert", g_error_new_literal (WKP_MODEL_ERROR, WKP_ERROR_INVALID, "--delay must be >= 0"));
      if (per_clip)
        json_object_set_boolean_member (o, "per_clip_norm", TRUE);
      if (points != NULL)
        {
          JsonNode *pn = points_node (points, &error);
          if (pn == NULL)
            return wkp_cli_fail ("convert", error);
          json_object_set_member (o, "points", pn);
        }
      sd = wkp_state_dict_load (in, &error);
      if (sd == NULL)
        return wkp_cli_fail ("convert", error);
      {
        /* metadata errors name the JSON too */
        g_autofree char *name = meta_path != NULL ? g_strdup_printf ("%s (metadata %s)", in, meta_path)
                                                  : g_strdup (in);
        model = wkp_model_from_state_dict (sd, o, lstm_prefix, head_prefix, name, &error);
      }
      if (model == NULL)
        {
          /* IN.json was passed over (not a wav2kp sidecar): say so, it is what the user meant */
          g_autofree char *beside = wkp_path_replace_ext (in, ".json");
          if (meta_path == NULL && g_file_test (beside, G_FILE_TEST_IS_REGULAR))
            g_prefix_error (&error, "%s was not used as metadata (not a JSON object written by wav2kp convert; "
                            "pass it with --metadata if it is one): ", beside);
          return wkp_cli_fail ("convert", error);
        }
      if (g_str_has_suffix (output, ".npz"))
        return wkp_cli_fail ("convert", g_error_new (WKP_MODEL_ERROR, WKP_ERROR_INVALID,
                                                     "%s is already a state dict; write a model file (e.g. OUT.wkpm)",
                                                     in));
    }
  if (!wkp_model_save (model, output, &error))
    return wkp_cli_fail ("convert", error);
  return WKP_EXIT_OK;
}
