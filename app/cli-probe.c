/* wav2kp probe FILE [--json] [--count-frames] [--fps NUM/DEN] */
#include "wkp-cli.h"
#include "wkp-io.h"
#include "wkp-media.h"
#include "wkp-model.h"
#include "wkp-npy.h"

#include <stdio.h>
#include <string.h>

/* A .npy: its dtype and shape, and what its sidecar (X.json beside X.npy)
 * says of it: the checks a user would otherwise make in Python. */
static int
describe_npy (const char *path, gboolean json)
{
  g_autoptr(WkpNpy) npy = NULL;
  g_autoptr(GString) shape = g_string_new ("(");
  g_autofree char *stem = g_str_has_suffix (path, ".npy") ? g_strndup (path, strlen (path) - 4) : g_strdup (path);
  g_autofree char *sidecar = NULL;
  /* a track's status array (X.status.npy) shares the track's sidecar */
  if (g_str_has_suffix (stem, ".status"))
    stem[strlen (stem) - 7] = '\0';
  sidecar = g_strconcat (stem, ".json", NULL);
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *side = NULL;
  GError *error = NULL;

  npy = wkp_npy_load (path, &error);
  if (npy == NULL)
    return wkp_cli_fail ("probe", error);
  for (int d = 0; d < npy->ndim; d++)
    g_string_append_printf (shape, "%s%" G_GINT64_FORMAT, d > 0 ? ", " : "", npy->shape[d]);
  g_string_append (shape, npy->ndim == 1 ? ",)" : ")");
  if (g_file_test (sidecar, G_FILE_TEST_IS_REGULAR))
    {
      parser = json_parser_new ();
      if (json_parser_load_from_file (parser, sidecar, NULL) && json_parser_get_root (parser) != NULL
          && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        side = json_node_get_object (json_parser_get_root (parser));
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, path);
      json_builder_set_member_name (b, "container");
      json_builder_add_string_value (b, "npy");
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, wkp_dtype_descr (npy->dtype));
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (int d = 0; d < npy->ndim; d++)
        json_builder_add_int_value (b, npy->shape[d]);
      json_builder_end_array (b);
      if (side != NULL)
        {
          json_builder_set_member_name (b, "sidecar");
          json_builder_add_string_value (b, sidecar);
        }
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      text = wkp_json_to_string (root, TRUE);
      printf ("%s\n", text);
      return WKP_EXIT_OK;
    }
  printf ("%s\n", path);
  printf ("  container   NumPy array (.npy)\n");
  printf ("  array       %s, shape %s\n", wkp_dtype_descr (npy->dtype), shape->str);
  if (side == NULL)
    {
      printf ("  sidecar     none (%s)\n", sidecar);
      return WKP_EXIT_OK;
    }
  printf ("  sidecar     %s\n", sidecar);
  /* its plain members (the nested settings are left to the file itself) */
  {
    g_autoptr(GList) members = json_object_get_members (side);
    for (GList *l = members; l != NULL; l = l->next)
      {
        JsonNode *v = json_object_get_member (side, l->data);
        if (!JSON_NODE_HOLDS_VALUE (v))
          continue;
        if (json_node_get_value_type (v) == G_TYPE_STRING)
          printf ("    %-16s %s\n", (const char *) l->data, json_node_get_string (v));
        else if (json_node_get_value_type (v) == G_TYPE_INT64)
          printf ("    %-16s %" G_GINT64_FORMAT "\n", (const char *) l->data, json_node_get_int (v));
        else if (json_node_get_value_type (v) == G_TYPE_DOUBLE)
          printf ("    %-16s %g\n", (const char *) l->data, json_node_get_double (v));
        else if (json_node_get_value_type (v) == G_TYPE_BOOLEAN)
          printf ("    %-16s %s\n", (const char *) l->data, json_node_get_boolean (v) ? "true" : "false");
      }
  }
  return WKP_EXIT_OK;
}

int
wkp_cli_probe (int argc, char **argv)
{
  gboolean json = FALSE, count = FALSE;
  g_autofree char *fps_text = NULL;
  g_auto(GStrv) files = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON for machines", NULL },
    { "count-frames", 0, 0, G_OPTION_ARG_NONE, &count, "Count video frames exactly (reads the whole file)", NULL },
    { "fps", 0, 0, G_OPTION_ARG_STRING, &fps_text, "Frame rate of an image sequence (default 25)", "NUM/DEN" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("— describe a media file");
  g_autoptr(WkpMediaInfo) info = NULL;
  WkpRational fps = { 0, 0 };
  GError *error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "FILE may be any file FFmpeg reads, or an image sequence pattern such as frames/%06d.jpg.\n"
    "A NumPy array (.npy) is described by its dtype, shape and sidecar (X.json beside X.npy).\n"
    "Frame rates are printed as exact rationals (30000/1001).");
  if (!wkp_cli_parse (ctx, "probe", &argc, &argv))
    return WKP_EXIT_BAD_INPUT;
  if (files == NULL || files[0] == NULL || files[1] != NULL)
    {
      g_printerr ("wav2kp probe: give exactly one FILE\n");
      return WKP_EXIT_BAD_INPUT;
    }
  if (fps_text != NULL && !wkp_frame_rate_parse (fps_text, &fps, &error))
    return wkp_cli_fail ("probe", error);
  if (wkp_file_sniff (files[0]) == WKP_FILE_NPY)
    return describe_npy (files[0], json);
  if (wkp_file_sniff (files[0]) == WKP_FILE_MODEL)
    return wkp_cli_describe_model ("probe", files[0]);   /* (it refused a model: "not audio or video") */

  info = wkp_media_probe (files[0], fps, count ? WKP_PROBE_COUNT_FRAMES : WKP_PROBE_DEFAULT, &error);
  if (info == NULL)
    return wkp_cli_fail ("probe", error);

  if (json)
    {
      g_autoptr(JsonNode) node = wkp_media_info_to_json (info);
      g_autofree char *text = wkp_json_to_string (node, TRUE);
      printf ("%s\n", text);
      return WKP_EXIT_OK;
    }

  printf ("%s\n", info->path);
  printf ("  container   %s\n", info->container);
  if (info->duration_us >= 0)
    printf ("  duration    %.3f s\n", info->duration_us / 1e6);
  if (info->has_video)
    {
      printf ("  video       %s, %dx%d, %d/%d fps (%.3f), %" G_GINT64_FORMAT " frames%s\n",
              info->video_codec, info->width, info->height, info->fps.num, info->fps.den,
              wkp_rational_to_double (info->fps), info->n_frames,
              info->n_frames_counted ? "" : " (estimated; --count-frames to count)");
      g_autofree char *timing = wkp_media_timing_note (info);
      if (timing != NULL && !info->resampled)
        printf ("  timing      irregular: the timestamps jump (start again, or span more than twice the pictures' "
                "time);\n              read one picture per frame at k/fps\n");
      else if (timing != NULL)
        printf ("  timing      irregular (variable frame rate or dropped frames): pictures up to %.0f ms from a "
                "constant %.3f fps;\n"
                "              read by their timestamps on that grid: %" G_GINT64_FORMAT " frames from %"
                G_GINT64_FORMAT " pictures (frame k is the picture on screen at k/fps;\n"
                "              %" G_GINT64_FORMAT " %s, %" G_GINT64_FORMAT " %s)\n",
                info->timing_error_us / 1000.0, wkp_rational_to_double (info->fps), info->n_frames, info->n_decoded,
                info->n_frames - info->n_shown,
                WKP_CLI_PLURAL (info->n_frames - info->n_shown, "frame repeats a picture", "frames repeat a picture"),
                info->n_decoded - info->n_shown,
                WKP_CLI_PLURAL (info->n_decoded - info->n_shown, "picture is dropped", "pictures are dropped"));
    }
  else
    printf ("  video       none\n");
  if (info->has_audio)
    printf ("  audio       %s, %d Hz, %d channel%s\n", info->audio_codec, info->sample_rate, info->channels,
            info->channels == 1 ? "" : "s");
  else
    {
      g_autofree char *companion = info->has_video && !info->is_image_sequence ? wkp_media_companion_wav (files[0])
                                                                              : NULL;
      if (companion != NULL)
        printf ("  audio       none (the commands use its WAV %s)\n", companion);
      else
        printf ("  audio       none%s\n", info->has_video ? " (pair with a separate audio file: --audio FILE)" : "");
    }
  return WKP_EXIT_OK;
}
