/* wav2kp probe FILE [--json] [--count-frames] [--fps NUM/DEN] */
#include "wkp-cli.h"
#include "wkp-io.h"
#include "wkp-media.h"

#include <stdio.h>

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
    }
  else
    printf ("  video       none\n");
  if (info->has_audio)
    printf ("  audio       %s, %d Hz, %d channel%s\n", info->audio_codec, info->sample_rate, info->channels,
            info->channels == 1 ? "" : "s");
  else
    printf ("  audio       none%s\n", info->has_video ? " (pair with a separate audio file: --audio FILE)" : "");
  return WKP_EXIT_OK;
}
